"""Reading the CSP violation reports browsers send, in both formats, into what the monitor
may keep: directive, blocked origin, page path, vendor and category, disposition.

- `application/csp-report`: `{"csp-report": {"document-uri", "blocked-uri",
  "effective-directive", "violated-directive", "disposition", …}}` (CSP Level 2, the
  `report-uri` directive; w3.org/TR/CSP2/#violation-reports).
- `application/reports+json`: `[{"type": "csp-violation", "url", "body": {"documentURL",
  "blockedURL", "effectiveDirective", "disposition", …}}, …]` (Reporting API and CSP
  Level 3, the `report-to` directive; w3.org/TR/CSP3/#reporting).

Everything else in a report (full URLs with their queries, the user agent, code samples,
the policy) is dropped here: reports are visitors' data too. Nothing here raises on a
hostile body beyond ReportError, which the endpoint answers with a 4xx.
"""

from __future__ import annotations

import re
from typing import Annotated, NamedTuple
from urllib.parse import urlsplit

import msgspec

from .trackers import vendor_for_url

MEDIA_TYPES = ("application/csp-report", "application/reports+json", "application/json")
MAX_REPORTS_PER_BODY = 20  # the Reporting API batches; more than this in one POST is not a browser
KEYWORDS = {"inline", "eval", "wasm-eval", "trusted-types-policy", "trusted-types-sink", "self"}
_DIRECTIVE = re.compile(r"^[a-z][a-z-]{2,30}$")


class CspReportBody(msgspec.Struct, rename="kebab"):
    """One violation as the `report-uri` directive sends it (CSP Level 2)."""

    document_uri: str = ""
    blocked_uri: str = ""
    effective_directive: str = ""
    violated_directive: str = ""
    disposition: str = ""


class CspReport(msgspec.Struct, rename="kebab"):
    """An `application/csp-report` body."""

    csp_report: CspReportBody


class ViolationBody(msgspec.Struct, rename="camel"):
    """A csp-violation report's body (CSP Level 3, the CSPViolationReportBody dictionary)."""

    document_url: str = msgspec.field(default="", name="documentURL")
    blocked_url: str = msgspec.field(default="", name="blockedURL")
    effective_directive: str = ""
    disposition: str = ""


class Report(msgspec.Struct):
    """One report of an `application/reports+json` batch; types other than csp-violation
    (deprecation, intervention) are accepted and skipped."""

    type: str
    body: ViolationBody
    url: str = ""


Reports = Annotated[list[Report], msgspec.Meta(max_length=MAX_REPORTS_PER_BODY)]
# The OpenAPI document's request bodies, by media type (openapi.py).
BODIES = {"application/csp-report": CspReport, "application/reports+json": Reports, "application/json": CspReport}


def _fields(struct: type, data: dict) -> dict[str, str]:
    """`data`'s values for `struct`'s fields, read by their names on the wire: the structs
    above are both the documented format and what is read, leniently (a value that is not
    a string reads as "", so a browser's odd field never costs the rest of its report)."""
    return {f.name: _text(data.get(f.encode_name)) for f in msgspec.structs.fields(struct)}


class ReportError(Exception):
    """A body that is not a violation report; the message says why."""


class Violation(NamedTuple):
    directive: str
    blocked: str  # an origin (scheme://host[:port]) or a keyword such as "inline"
    page: str  # the document's path, no query, no fragment
    vendor: str  # tracker table id, "" when no known vendor
    category: str
    disposition: str  # "enforce" (blocked) or "report" (reported only)


def _text(value, limit: int = 2048) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _split(url: str):
    try:
        return urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return urlsplit("")


def _blocked(url: str) -> tuple[str, str, str]:
    """(blocked origin or keyword, vendor id, vendor category) of a blocked URL."""
    if url in KEYWORDS:
        return url, "", ""
    parts = _split(url)
    scheme = parts.scheme.lower()
    if scheme in ("data", "blob", "filesystem"):
        return scheme, "", ""
    if scheme not in ("http", "https", "ws", "wss") or not parts.hostname:
        return "other", "", ""
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "other", "", ""
    vendor = vendor_for_url(url)
    return f"{scheme}://{parts.hostname}{port}", vendor.id if vendor else "", vendor.category if vendor else ""


def _violation(document: str, blocked: str, directive: str, disposition: str) -> Violation:
    directive = directive.split(" ")[0].lower()
    origin, vendor, category = _blocked(blocked)
    page = (_split(document).path[:200] or "/") if document else ""
    return Violation(
        directive=directive if _DIRECTIVE.match(directive) else "other",
        blocked=origin,
        page=page,
        vendor=vendor,
        category=category,
        disposition="report" if disposition == "report" else "enforce",
    )


_CSP_REPORT = msgspec.structs.fields(CspReport)[0].encode_name


def _from_csp_report(data) -> list[Violation]:
    report = data.get(_CSP_REPORT) if isinstance(data, dict) else None
    if not isinstance(report, dict):
        raise ReportError(f'expected {{"{_CSP_REPORT}": {{...}}}}')
    r = _fields(CspReportBody, report)
    return [_violation(r["document_uri"], r["blocked_uri"], r["effective_directive"] or r["violated_directive"], r["disposition"])]


def _from_reports(data) -> list[Violation]:
    if not isinstance(data, list):
        raise ReportError("expected a JSON array of reports")
    if len(data) > MAX_REPORTS_PER_BODY:
        raise ReportError(f"at most {MAX_REPORTS_PER_BODY} reports in one body")
    found = []
    for report in data:
        if not isinstance(report, dict) or report.get("type") != "csp-violation":
            continue  # other report types (deprecation, intervention) are not ours
        body = report.get("body")
        if not isinstance(body, dict):
            raise ReportError("a csp-violation report without a body")
        b = _fields(ViolationBody, body)
        document = b["document_url"] or _text(report.get("url"))
        found.append(_violation(document, b["blocked_url"], b["effective_directive"], b["disposition"]))
    return found


def parse(body: bytes, media_type: str) -> list[Violation]:
    """The violations in a report body of `media_type` (one of MEDIA_TYPES)."""
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise ReportError(f"not valid JSON: {exc}") from None
    except RecursionError:  # thousands of nested brackets
        raise ReportError("not valid JSON: nested too deeply") from None
    if media_type == "application/reports+json":
        return _from_reports(data)
    return _from_csp_report(data)
