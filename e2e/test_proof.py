"""Rule 11 (docs/rules.md#rule-11): proof of every decision — exactly one record per decision, with the
cookie's random consent id, server UTC time, revision, the hash of everything the visitor
was shown (first layer, preferences, public config), language, every category explicitly
true or false and the source; no full IP, no raw user agent; the receipt shows the text.
"""

import hashlib
from pathlib import Path
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from gatekeeper.bundle import build_bundle
from gatekeeper.sites import load_sites

from .harness import BANNER, COOKIE, SITES, choose, cookies, decode_token, open_demo, wait_for_banner
from .server import REPO

# (site, language, how the visitor decides)
CASES = [("ecomarket", "fr", "save"), ("locomail", "en", "accept")]
SHOWN_TEXT = """() => {
    const root = document.querySelector('gatekeeper-banner').shadowRoot;
    return Array.from(root.querySelectorAll('h2, p:not(.gk-links), a, li, label, dt, dd, button'))
        .map(el => el.textContent.trim()).filter(Boolean);
}"""


@pytest.fixture(scope="module")
def bundles():
    return {site_id: build_bundle(site) for site_id, site in load_sites(REPO / "sites").items()}


@pytest.mark.parametrize(("site", "lang", "action"), CASES)
def test_11_one_record_per_decision_with_proof_of_what_was_shown(site, lang, action, server, context, page, bundles):
    demo = SITES[site]
    open_demo(page, server, site, lang=lang)
    wait_for_banner(page)
    page.locator(f"{BANNER} button[data-gk=prefs]").click()
    page.locator(f"{BANNER} button[data-gk=save]").wait_for(state="visible")
    seen = page.evaluate(SHOWN_TEXT)  # both layers' words, as the visitor's browser has them
    user_agent = page.evaluate("() => navigator.userAgent")
    mark = server.last_rowid()
    before = datetime.now(timezone.utc)
    answer = choose(page, action, ("analytics",))
    after = datetime.now(timezone.utc)

    rows = server.records(after=mark)
    assert len(rows) == 1, rows
    row = rows[0]
    payload, _ = decode_token(cookies(context)[COOKIE]["value"])
    assert row["consent_id"] == answer["consent_id"] == payload["id"]
    assert len(row["consent_id"]) >= 16 and row["consent_id"] not in (r["consent_id"] for r in server.records()[:-1])
    recorded = datetime.fromisoformat(row["created_at"]).replace(tzinfo=timezone.utc)
    assert before - timedelta(seconds=2) <= recorded <= after + timedelta(seconds=2), (before, row["created_at"])
    assert (row["action"], row["revision"], row["language"]) == ("grant", 1, lang)
    assert row["source"] == "preferences"  # decided with the preferences open
    assert row["categories"] == {"necessary": True, **{c: action == "accept" or c == "analytics" for c in demo.categories}}
    assert all(isinstance(v, bool) for v in row["categories"].values())
    assert row["text_hash"] == bundles[site].text_hashes[lang]
    assert row["ip"] != "127.0.0.1" and not any(user_agent in str(v) or "Mozilla/" in str(v) for v in row.values()), row

    # The receipt: the record and the text it was made on, archived and verified.
    receipt = page.request.get(f"{server.url}/api/v1/consent/{row['consent_id']}").json()
    assert [(r["action"], r["text_hash"], r["source"]) for r in receipt["records"]] == [
        ("grant", row["text_hash"], row["source"])
    ]
    shown = receipt["texts"][row["text_hash"]]
    assert shown["verified"] and shown["language"] == lang
    assert hashlib.sha256(shown["markup"].encode()).hexdigest() == row["text_hash"]
    missing = [words for words in seen if " ".join(words.split()) not in shown["text"]]
    assert missing == [], "every word on both layers is in the receipt"
    assert shown["config"]["revision"] == 1 and shown["config"]["categories"] == list(demo.categories)


def test_11_the_archive_holds_every_distinct_version(server, bundles):
    with sqlite3.connect(server.db_path) as db:
        archived = {(site, lang): text_hash for text_hash, site, lang in
                    db.execute("SELECT text_hash, site, language FROM banner_texts")}
        markups = dict(db.execute("SELECT text_hash, markup FROM banner_texts"))
    expected = {(s, lang): h for s, b in bundles.items() for lang, h in b.text_hashes.items()}
    assert {k: archived.get(k) for k in expected} == expected
    for text_hash in expected.values():
        assert hashlib.sha256(markups[text_hash].encode()).hexdigest() == text_hash


def test_11_the_visitor_downloads_a_receipt_that_verifies_against_the_jwks(server, page):
    """Preferences offer "Download my receipt" once there is a recorded decision; the file
    holds the records and an EdDSA JWT that PyJWT verifies with the published keys."""
    import json

    import jwt

    open_demo(page, server, "ecomarket", lang="en")
    wait_for_banner(page)
    page.locator(f"{BANNER} button[data-gk=prefs]").click()
    page.locator(f"{BANNER} button[data-gk=save]").wait_for(state="visible")
    link = page.locator(f"{BANNER} [data-gk-receipt] a")
    assert not link.is_visible()  # undecided: nothing to download yet
    answer = choose(page, "save", ("analytics",))
    page.evaluate("() => window.gatekeeper.show()")
    link.wait_for(state="visible", timeout=5_000)
    assert link.inner_text().startswith("Download my receipt")
    with page.expect_download(timeout=10_000) as download:
        link.click()
    document = json.loads(Path(download.value.path()).read_text())
    assert document["consent_id"] == answer["consent_id"]
    jwks = page.request.get(document["jwks_uri"]).json()
    token = document["receipt"]
    [key] = [jwt.PyJWK(k) for k in jwks["keys"] if k["kid"] == jwt.get_unverified_header(token)["kid"]]
    claims = jwt.decode(token, key=key, algorithms=["EdDSA"])
    assert claims["sub"] == answer["consent_id"] and claims["decisions"][-1]["categories"]["analytics"] is True
