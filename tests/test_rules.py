"""docs/rules.md is the one statement of the rules: the audit's findings take their titles
and links from it, `gatekeeper rules` prints it, and every rule a finding cites is in it."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from gatekeeper.audit.findings import RULES, Finding
from gatekeeper.cli import main
from gatekeeper.rules import DOC, rules

REPO = Path(__file__).resolve().parent.parent


def test_the_document_holds_rules_1_to_22_each_with_its_anchor():
    found = rules()
    assert sorted(found) == list(range(1, 23))
    text = (REPO / DOC).read_text()
    for number, rule in found.items():
        assert f'<a id="rule-{number}"></a>' in text and rule.title and len(rule.text) > 40
        assert rule.link == f"docs/rules.md#rule-{number}"


def test_every_finding_names_a_rule_of_the_document_and_links_to_it():
    # Every rule number the audit's checks can cite (Finding(rule=N) anywhere in the audit).
    cited = {
        int(n) for path in (REPO / "gatekeeper" / "audit").glob("*.py")
        for n in re.findall(r"\brule=(\d+)", path.read_text())
    }
    assert cited and cited <= set(RULES) <= set(rules())
    assert all(RULES[n] == rules()[n].title for n in RULES)
    finding = Finding(rule=8, vendor="Meta pixel", url="https://connect.facebook.net/x", page="/", scenario="reject",
                      message="marketing tracker contacted with nothing granted")
    assert finding.to_json()["rule_link"] == "docs/rules.md#rule-8"
    assert finding.line().startswith("rule 8 (Each choice is respected) · Meta pixel")


def test_gatekeeper_rules_prints_a_rule_and_refuses_an_unknown_one():
    listed = CliRunner().invoke(main, ["rules"])
    assert listed.exit_code == 0 and len(listed.output.splitlines()) == 22
    eight = CliRunner().invoke(main, ["rules", "8"])
    assert eight.exit_code == 0 and eight.output.startswith("Rule 8: Each choice is respected\n")
    assert "only with marketing" in eight.output
    unknown = CliRunner().invoke(main, ["rules", "99"])
    assert unknown.exit_code == 1 and "no rule 99" in unknown.output


def test_the_readme_and_pages_cite_the_shipped_document_not_a_missing_one():
    for path in (REPO / "README.md", *(REPO / "gatekeeper" / "templates").glob("*.html")):
        assert "COMPLIANCE.md" not in path.read_text(), path
    assert "docs/rules.md" in (REPO / "README.md").read_text()


def test_no_text_cites_a_rule_by_the_missing_documents_number():
    """Docstrings, comments and user-facing text point at docs/rules.md's rule ids, which a
    reader can look up, never at the numbers of a COMPLIANCE document the repository lacks."""
    shipped = [*(REPO / "gatekeeper").rglob("*.py"), *(REPO / "gatekeeper").rglob("*.html"), *(REPO / "e2e").rglob("*.py"),
               *(REPO / "tests").rglob("*.py"), *(REPO / "static").rglob("*.js"), REPO / "README.md", *(REPO / "docs").rglob("*.md")]
    citing = [str(p.relative_to(REPO)) for p in shipped if re.search(r"COMPLIANCE (rules? )?\d", p.read_text("utf-8"))]
    assert not citing
