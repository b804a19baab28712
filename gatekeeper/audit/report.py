"""The audit's reports: a terminal summary (a line per finding) and the JSON document
with every request and cookie of every scenario.
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from ..extras import DISTRIBUTION
from ..rules import DOC
from .runner import CLEAN, NOT_AUDITED, Audit

OUTCOME = {
    CLEAN: "clean: no violation found",
    1: "violations found",
    NOT_AUDITED: "some pages could not be audited",
}


def _version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"


def _banner_line(page) -> str:
    if page.banner is None:
        return "  banner: none found"
    if page.banner.kind == "gatekeeper":
        return f"  banner: Gatekeeper site {page.banner.site!r}"
    return f"  banner: {page.banner.tool} ({page.banner.detected_by})"


def summary(audit: Audit) -> list[str]:
    lines = []
    for page in audit.pages:
        via = f" (linked from {page.found_via})" if page.found_via else ""
        if page.error:
            lines.append(f"NOT AUDITED  {page.url}{via}: {page.error}")
            continue
        findings = page.findings
        head = "CLEAN" if not findings else f"{len(findings)} VIOLATION{'S' if len(findings) > 1 else ''}"
        lines.append(f"{head}  {page.url}{via}")
        lines.append(_banner_line(page))
        for note in [*(page.banner.notes if page.banner else ()), *page.notes]:
            lines.append(f"  note: {note}")
        for scenario in page.scenarios[1:]:  # the first scenario's banner is the page's
            for note in scenario.banner["notes"] if scenario.banner else ():
                lines.append(f"  note [{scenario.name}]: {note}")
        first = page.scenarios[0] if page.scenarios else None
        for element in first.held if first else ():
            lines.append(f"  info: held by {first.held_by}: {element.describe()} {element.url}")
        for finding in findings:
            lines.append(f"  ✗ [{finding.scenario}] {finding.line()}")
    if any(page.findings for page in audit.pages):
        lines.append(f"  rules: {DOC} (`gatekeeper rules N` prints rule N)")
    counts = {status: sum(p.status == status for p in audit.pages) for status in ("clean", "violations", "not audited")}
    lines.append(
        f"{len(audit.pages)} page(s): {counts['clean']} clean, {counts['violations']} with violations, "
        f"{counts['not audited']} not audited · exit {audit.exit_code} ({OUTCOME[audit.exit_code]})"
    )
    return lines


def to_json(audit: Audit) -> dict:
    return {
        "tool": "gatekeeper audit",
        "version": _version(),
        "started": audit.started,
        "offline_trackers": audit.offline_trackers,
        "dwell": audit.dwell,
        "exit_code": audit.exit_code,
        "outcome": OUTCOME[audit.exit_code],
        "pages": [
            {
                "url": page.url,
                "found_via": page.found_via,
                "status": page.status,
                "error": page.error,
                "seconds": page.seconds,
                "banner": page.banner.to_json() if page.banner else None,
                "notes": page.notes,
                "declaration": page.declaration.url if page.declaration else None,
                "findings": [f.to_json() for f in page.findings],
                "scenarios": [s.to_json(page.url, page.declaration) for s in page.scenarios],
            }
            for page in audit.pages
        ],
    }


def write_json(audit: Audit, path: Path) -> None:
    path.write_text(json.dumps(to_json(audit), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
