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
from typing import NamedTuple
from urllib.parse import urlsplit

import msgspec

from .trackers import vendor_for_url

MEDIA_TYPES = ("application/csp-report", "application/reports+json", "application/json")
MAX_REPORTS_PER_BODY = 20  # the Reporting API batches; more than this in one POST is not a browser
KEYWORDS = {"inline", "eval", "wasm-eval", "trusted-types-policy", "trusted-types-sink", "self"}
_DIRECTIVE = re.compile(r"^[a-z][a-z-]{2,30}$")


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


def _from_csp_report(data) -> list[Violation]:
    report = data.get("csp-report") if isinstance(data, dict) else None
    if not isinstance(report, dict):
        raise ReportError('expected {"csp-report": {...}}')
    directive = _text(report.get("effective-directive")) or _text(report.get("violated-directive"))
    return [_violation(_text(report.get("document-uri")), _text(report.get("blocked-uri")), directive, _text(report.get("disposition")))]


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
        document = _text(body.get("documentURL")) or _text(report.get("url"))
        found.append(_violation(document, _text(body.get("blockedURL")), _text(body.get("effectiveDirective")), _text(body.get("disposition"))))
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
