"""What the audit reports: a Finding names the rule (its number in docs/rules.md, with a
link to it), the vendor, the URL that proves it, and the page and scenario where it was seen.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..rules import rule

# The rules the audit checks, titled as docs/rules.md titles them.
RULES = {n: rule(n).title for n in (1, 2, 4, 5, 6, 7, 8, 9, 13, 15, 18)}


@dataclass(frozen=True)
class Finding:
    rule: int
    vendor: str  # the vendor's name, or who set an unknown cookie
    url: str  # the request, or the page a cookie was observed on
    page: str
    scenario: str
    message: str
    vendor_id: str | None = None
    count: int = 1
    when: str | None = None  # for a request: what triggered it and the page time (the first one, when merged)
    measured: dict | None = field(default=None, compare=False)  # the values a banner finding measured

    @property
    def title(self) -> str:
        return RULES.get(self.rule, "")

    @property
    def link(self) -> str:
        return rule(self.rule).link

    @property
    def key(self) -> tuple:
        return (self.rule, self.page, self.scenario, self.vendor_id or self.vendor, self.message)

    def line(self) -> str:
        times = f" ({self.count}x)" if self.count > 1 else ""
        when = f" · sent {self.when}" if self.when else ""
        return f"rule {self.rule} ({self.title}) · {self.vendor} · {self.message}{times} · {self.url}{when}"

    def to_json(self) -> dict:
        return {**asdict(self), "title": self.title, "rule_link": self.link}


def merge(findings: list[Finding]) -> list[Finding]:
    """One finding per rule, page, scenario, vendor and message, counting repeats."""
    merged: dict[tuple, Finding] = {}
    for finding in findings:
        first = merged.get(finding.key)
        if first is None:
            merged[finding.key] = finding
        else:
            merged[finding.key] = Finding(**{**asdict(first), "count": first.count + finding.count})
    return list(merged.values())
