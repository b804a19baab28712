import pytest

from gatekeeper.qa_fixtures import PAGES


def test_qa_pages_are_off_by_default(client):
    assert client.get("/qa/hardcoded-gtag").status_code == 404
    assert client.get("/qa/").status_code == 404


@pytest.mark.parametrize("name", PAGES)
def test_qa_pages_are_served_when_switched_on(make_client, name):
    client = make_client(qa_fixtures=True)
    response = client.get(f"/qa/{name}")
    assert response.status_code == 200
    assert f"QA fixture: {name}" in response.text
    embeds_gatekeeper = '<script src="/gk/locomail.js" async></script>' in response.text
    assert embeds_gatekeeper == (name not in ("no-reject", "no-banner", "trackers-no-banner", "dark-patterns"))


def test_qa_index_lists_every_page_and_unknown_ones_are_404(make_client):
    client = make_client(qa_fixtures=True)
    index = client.get("/qa/").text
    assert all(f'href="/qa/{name}"' in index for name in PAGES)
    assert client.get("/qa/nothing-here").status_code == 404
