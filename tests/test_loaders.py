"""gatekeeper/loaders.py is the one place a loader is known: its fields and script URL come
from its catalog preset, and the bundle, declaration, CSP, pages and gate.js ask it."""

from __future__ import annotations

import re
from fnmatch import fnmatch
from pathlib import Path

import msgspec
import pytest

from gatekeeper import loaders
from gatekeeper.bundle import public_config
from gatekeeper.catalog import catalog
from gatekeeper.csp import service_hosts
from gatekeeper.sites import SiteError, load_sites, parse_site
from gatekeeper.trackers import vendor_for_url

REPO = Path(__file__).resolve().parent.parent
STRUCTS = {"ga4": loaders.GA4, "google_ads": loaders.GoogleAds, "facebook_sdk": loaders.FacebookSDK, "gtm": loaders.GTM}


@pytest.mark.parametrize("type_", list(loaders.BUILT_INS))
def test_a_built_in_loader_is_its_presets_parameters_and_url(type_):
    preset, struct = catalog()[type_], STRUCTS[type_]
    option_names = {name for name, *_ in loaders.BUILT_INS[type_].options}
    assert set(struct.__struct_fields__) == set(preset.params) | option_names
    example = {name: p.example for name, p in preset.params.items()}
    loader = msgspec.convert({"type": type_, **example}, loaders.Loader)
    assert type(loader) is struct and loaders.preset_of(loader) == type_
    url = loaders.src(loader)
    assert url == preset.fill(preset.loader.src, example) and "{" not in url
    assert all(value in url for name, value in example.items() if "{" + name + "}" in preset.loader.src)
    # The vendors it contacts: its own, those it comes through, and its URL's.
    vendors = loaders.tracker_vendors(loader)
    assert vendors[0] == type_ and set(preset.loader.via) <= set(vendors) and vendor_for_url(url).id in vendors
    for name, param in preset.params.items():
        with pytest.raises(msgspec.ValidationError, match=re.escape(param.pattern)):
            msgspec.convert({"type": type_, **example, name: "not/like/this"}, loaders.Loader)


def test_a_loader_written_in_a_site_file_is_checked_against_its_presets_shape():
    site = (REPO / "sites" / "locomail.toml").read_text("utf-8")
    assert 'loader = { type = "ga4", measurement_id = "G-LOCO67890" }' in site
    loco = parse_site(site, "locomail.toml")
    assert loaders.src(loco.services[0].loader) == "https://www.googletagmanager.com/gtag/js?id=G-LOCO67890"
    with pytest.raises(SiteError, match=r"services\[0\]\.loader\.measurement_id: .*\^G-"):
        parse_site(site.replace('measurement_id = "G-LOCO67890"', 'measurement_id = "UA-1234"'), "locomail.toml")


def test_the_gate_is_told_each_services_url_and_how_to_run_it():
    ecomarket = load_sites(REPO / "sites")["ecomarket"]
    services = public_config(ecomarket)["services"]
    assert [s["type"] for s in services] == ["gtag", "gtag", "facebook_sdk", "script"]
    assert services[0]["src"] == "https://www.googletagmanager.com/gtag/js?id=G-ECOM12345"
    assert services[2] == {"category": "social", "type": "facebook_sdk", "src": "https://connect.facebook.net/nl_BE/sdk.js",
                           "id": "1234567890", "opts": {"cookie": True, "xfbml": True, "version": "v19.0"}}
    # The CSP allows what the gate loads.
    for service, told in zip([s for s in ecomarket.services if s.category != "necessary"], services):
        origin = re.match(r"https://[^/]+", told["src"]).group(0)
        assert any(fnmatch(origin, host) for host in service_hosts(service)), (service.id, origin)


def test_no_module_but_loaders_knows_a_loader_and_the_gate_knows_no_vendor_url():
    gate = (REPO / "static" / "banner" / "gate.js").read_text("utf-8")
    assert not re.search(r"https?://", gate), "a vendor's URL belongs to its preset"
    assert not re.search(r"'(ga4|google_ads)'", gate), "gate.js runs loaders by how, not by vendor"
    assert not re.search(r"version: '", gate), "a vendor's settings belong to its preset"
    knowing = {
        str(path.relative_to(REPO)) for path in (REPO / "gatekeeper").rglob("*.py")
        if re.search(r"\b(GA4|GoogleAds|FacebookSDK|GTM)\b[,)]|isinstance\([^)]*\b(GA4|GoogleAds|FacebookSDK|GTM)\b",
                     path.read_text("utf-8"))
    }
    assert knowing <= {"gatekeeper/loaders.py", "gatekeeper/sites.py"}, knowing
    sites = (REPO / "gatekeeper" / "sites.py").read_text("utf-8")
    assert "class GA4" not in sites and "G-[A-Z0-9]" not in sites
