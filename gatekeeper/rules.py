"""The consent rules, as written in docs/rules.md (shipped in the package): their titles
for the audit's findings, a link to each, and the text `gatekeeper rules N` prints.

The document is the one place a rule is written; nothing here restates one.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import NamedTuple

DOC = "docs/rules.md"
_HEADING = re.compile(r'^<a id="rule-(\d+)"></a>\n## Rule \1: (.+)$', re.M)


class Rule(NamedTuple):
    number: int
    title: str
    text: str

    @property
    def link(self) -> str:
        """Where the rule is written, as a path and anchor in the project."""
        return f"{DOC}#rule-{self.number}"


def _document() -> str:
    installed = Path(str(files("gatekeeper") / "docs" / "rules.md"))
    # An editable install (a checkout) maps the package to docs/ without copying it.
    path = installed if installed.is_file() else Path(__file__).parents[1] / DOC
    return path.read_text("utf-8")


@lru_cache(maxsize=1)
def rules() -> dict[int, Rule]:
    text = _document()
    headings = list(_HEADING.finditer(text))
    found = {}
    for i, heading in enumerate(headings):
        end = headings[i + 1].start() if i + 1 < len(headings) else len(text)
        number = int(heading.group(1))
        found[number] = Rule(number, heading.group(2).strip(), text[heading.end():end].strip())
    return found


def rule(number: int) -> Rule:
    return rules()[number]
