"""Every preset of the catalog in a real browser, generated from the catalog: one shop
page per preset (its service with the preset's example parameters, an iframe for an
embed), tracker hosts answered by stand-ins that set the preset's declared cookies and
call its hosts. Nothing before a choice; released with its category; every cookie it
sets declared (docs/rules.md#rule-13); its first-party cookies deleted on withdrawal (rule 10).
"""

from __future__ import annotations

import time

import pytest

from gatekeeper.catalog import catalog
from gatekeeper.declaration import tracker_vendors
from gatekeeper.sites import load_sites, pattern_matches

from .harness import COOKIE, cookies, wait_for_banner
from .server import Server

PRESETS = sorted(catalog())
CATEGORIES = sorted({p.category for p in catalog().values()})


def site_file(preset_id: str) -> str:
    """A shop running this one preset, with its example parameters, in every category
    the catalog proposes (so a category holds nothing but the preset under test)."""
    preset = catalog()[preset_id]
    lines = [
        f'id = "{preset_id}"', 'name = "Preset shop"', 'controller = "Preset shop BV"', 'address = "Gent"',
        'policy_url = "https://shop.example/privacy"', 'languages = ["en", "nl"]',
    ]
    for category in CATEGORIES:
        lines += ["[[categories]]", f'id = "{category}"', f'name = "{category}"', 'description = "—"']
    params = ", ".join(f'{name} = "{p.example}"' for name, p in preset.params.items())
    lines += ["[[services]]", f'preset = "{preset.id}"', f"params = {{ {params} }}"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def preset_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("presets")
    sites_dir = workdir / "sites"
    sites_dir.mkdir()
    for preset_id in PRESETS:
        (sites_dir / f"{preset_id}.toml").write_text(site_file(preset_id), encoding="utf-8")
    sites = load_sites(sites_dir)
    server = Server.start(workdir, sites_dir=sites_dir)
    yield server, sites
    server.stop()


def shop_page(server: Server, preset_id: str) -> str:
    """The shop page for one preset: the bundle, and the vendor's iframe for an embed."""
    loader = catalog()[preset_id].loader
    embed = ""
    if loader.type == "embed":
        category = catalog()[preset_id].category
        embed = f'<iframe title="{preset_id}" data-category="{category}" data-src="{loader.example}" width="560" height="315"></iframe>'
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{preset_id}</title></head>'
        f'<body><main><h1>Shop</h1>{embed}</main><script src="{server.url}/gk/{preset_id}.js"></script></body></html>'
    )


def until(page, condition, timeout: float = 5.0):
    """`condition()` once true, polled while the page runs, or its last value after `timeout`."""
    deadline = time.monotonic() + timeout
    while not (value := condition()) and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    return value


@pytest.mark.parametrize("preset_id", PRESETS)
def test_a_preset_loads_only_with_its_category_and_sets_only_declared_cookies(preset_id, preset_server, context, page, tracker_log):
    server, sites = preset_server
    [service] = sites[preset_id].services
    vendors = set(tracker_vendors(service))
    declared = [c.name for c in service.cookies]
    mine = lambda name: any(pattern_matches(p, name) for p in declared)  # noqa: E731
    url = f"{server.url}/shop/{preset_id}"
    context.route(url, lambda route: route.fulfill(body=shop_page(server, preset_id), content_type="text/html"))

    page.goto(url, wait_until="load")
    wait_for_banner(page)
    tracker_log.settle(page)
    assert not [s for s in tracker_log.trackers() if s.vendor.id in vendors], tracker_log.describe()
    assert not [n for n in cookies(context) if mine(n)], cookies(context)

    page.evaluate("category => window.gatekeeper.accept([category])", service.category)
    loaded = until(page, lambda: [s for s in tracker_log.trackers() if s.vendor.id in vendors])
    assert loaded, f"{preset_id} never loaded: {tracker_log.describe()}"
    first_party = [c.name for c in service.cookies if c.first_party]
    sets_first_party = lambda: any(pattern_matches(p, n) for p in first_party for n in cookies(context))  # noqa: E731
    # The stand-in sets them when it runs, which on a busy machine can be well after its
    # request has ended and the network has gone quiet.
    assert not first_party or until(page, sets_first_party), f"the stand-in set none of {first_party}"
    tracker_log.settle(page)
    seen = set(cookies(context)) - {COOKIE}
    undeclared = {n for n in seen if not mine(n)}
    assert not undeclared, f"{preset_id} set undeclared cookies {undeclared}"

    page.evaluate("() => window.gatekeeper.withdraw()")
    page.wait_for_function("() => window.gatekeeper.decision === null", timeout=5_000)
    left = [n for n in cookies(context) if any(pattern_matches(p, n) for p in first_party)]
    assert not left, f"{preset_id}: first-party cookies left after withdrawal: {left}"
