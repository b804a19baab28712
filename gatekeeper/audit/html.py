"""The HTML report: one file that stands alone (screenshots embedded as data URIs), for a
CI artefact or an e-mail to the shop.
"""

from __future__ import annotations

import base64
from pathlib import Path

from ..templating import render
from .report import OUTCOME, to_json
from .runner import Audit


def _data_uri(image: bytes | None) -> str | None:
    return "data:image/jpeg;base64," + base64.b64encode(image).decode("ascii") if image else None


def write_html(audit: Audit, path: Path) -> None:
    document = to_json(audit)
    for page, data in zip(audit.pages, document["pages"]):
        data["screenshots"] = [
            (f"{scenario.name}: {label}", _data_uri(image))
            for scenario in page.scenarios
            for label, image in scenario.screenshots.items()
            if image
        ]
    path.write_text(render("audit_report.html", audit=document, outcome=OUTCOME[audit.exit_code]), encoding="utf-8")
