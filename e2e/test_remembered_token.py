"""The reload fast path: a consent token the gate has verified (or received in the server's
own answer) is remembered, with the keys that checked it, in the shop origin's
localStorage; a reload carrying that very cookie releases the tags without WebCrypto.
Anything else is verified in full, so a cookie planted beside or over a remembered one
(from a sibling subdomain, which cannot write this origin's storage) still releases nothing.
"""

from __future__ import annotations

from .harness import COOKIE, banner_visible, choose, cookies, decision, open_demo, wait_for_banner, wait_for_decision
from .test_planted_cookie import SITE, assert_undecided_and_silent, junk_grant_all, plant, token, unseen_by_server

# Installed before the bundle runs: WebCrypto's verify says no to every signature, so only
# the remembered token can release anything.
NO_WEBCRYPTO = "crypto.subtle.verify = async () => false"
GTAG = "googletagmanager.com/gtag/js"


def remembered(page) -> str | None:
    return page.evaluate(f"() => localStorage.getItem({COOKIE!r})")


def test_a_choice_is_remembered_and_a_reload_releases_without_webcrypto(server, context, page, tracker_log):
    open_demo(page, server, SITE)
    wait_for_banner(page)
    assert remembered(page) is None, "nothing stored before a choice"
    answer = choose(page, "accept")
    assert remembered(page).split(" ")[0] == answer["token"] == cookies(context)[COOKIE]["value"]
    tracker_log.wait_for(page, GTAG)  # the accepted page's own, before the mark

    context.add_init_script(NO_WEBCRYPTO)
    mark = tracker_log.mark()
    page.reload(wait_until="load")
    tracker_log.wait_for(page, GTAG, since=mark)
    assert wait_for_decision(page)["categories"]["analytics"] is True
    assert not banner_visible(page)

    # The control: forgotten, the same cookie meets the refusing WebCrypto and is not believed.
    page.evaluate(f"() => localStorage.removeItem({COOKIE!r})")
    page.reload(wait_until="load")
    wait_for_banner(page)
    assert decision(page) is None


def test_a_verified_cookie_is_remembered_on_its_first_load(server, context, page, tracker_log):
    plant(context, server, token(server.secret_keys.split(","), granted=("analytics",)))
    open_demo(page, server, SITE)
    tracker_log.wait_for(page, GTAG)
    assert remembered(page).split(" ")[0] == cookies(context)[COOKIE]["value"]


def test_a_planted_cookie_differing_from_the_remembered_one_is_refused(server, context, page, tracker_log):
    open_demo(page, server, SITE)
    wait_for_banner(page)
    choose(page, "accept")
    assert remembered(page)
    # leave the accepted page first: GA sends its page_view beacon when a page unloads,
    # which belongs to the accepted visit, not to the planted cookie's
    page.goto("about:blank")
    tracker_log.settle(page)

    unseen_by_server(context)
    plant(context, server, junk_grant_all())  # over the genuine one: same name, host and path
    mark = tracker_log.mark()
    open_demo(page, server, SITE)
    assert_undecided_and_silent(page, tracker_log, mark)


def test_the_remembered_token_alone_is_no_decision(server, context, page, tracker_log):
    """With the cookie gone the memory never stands in for it: banner, nothing released."""
    open_demo(page, server, SITE)
    wait_for_banner(page)
    choose(page, "reject")
    context.clear_cookies()
    mark = tracker_log.mark()
    page.reload(wait_until="load")
    assert_undecided_and_silent(page, tracker_log, mark)


def test_withdrawal_forgets_the_token(server, context, page, tracker_log):
    open_demo(page, server, SITE)
    wait_for_banner(page)
    choose(page, "accept")
    page.evaluate("() => gatekeeper.withdraw()")
    page.wait_for_function(f"() => localStorage.getItem({COOKIE!r}) === null", timeout=5_000)
