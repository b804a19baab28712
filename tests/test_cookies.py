"""cookies.py: the one list of what a shop may store before a choice."""

from gatekeeper import cookies


def test_the_audit_and_the_browser_tests_hold_shops_to_one_allow_list():
    from e2e import harness
    from gatekeeper.audit import storage

    assert storage.ESSENTIAL_COOKIES is harness.ESSENTIAL_COOKIES is cookies.ESSENTIAL_COOKIES
    assert harness.ESSENTIAL_STORAGE_KEYS is cookies.ESSENTIAL_STORAGE_KEYS
    assert storage.CONSENT_COOKIE == harness.COOKIE == cookies.COOKIE_NAME
    # Before a choice there is no consent cookie at all (docs/rules.md, rule 2).
    assert cookies.COOKIE_NAME not in cookies.ESSENTIAL_COOKIES
