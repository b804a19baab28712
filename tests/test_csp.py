"""The consent-aware CSP: the policy builder, the site file's `[csp]` table, and where every
allowed host comes from (the site file or the tracker table, never typed anywhere else)."""

import re
import time
import tomllib
from urllib.parse import urlsplit

import pytest

from gatekeeper.catalog import catalog
from gatekeeper.csp import HOST_DIRECTIVES, Policy
from gatekeeper.shop import Consent, Guard
from gatekeeper.tokens import ConsentToken, TokenSigner
from gatekeeper.sites import SiteError, parse_site

from conftest import SITES_DIR

ECOMARKET = (SITES_DIR / "ecomarket.toml").read_text()
SHOP_CSP = """
[csp]
gatekeeper = "https://consent.ecomarket.be"
script-src = ["https://cdn.ecomarket.be", "https://js.stripe.com"]
img-src = ["data:", "https://*.ecomarket-cdn.be"]
frame-src = ["https://js.stripe.com"]
font-src = ["https://fonts.gstatic.com"]
"""


def directives(policy: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in policy.split("; ")}


@pytest.fixture
def site():
    return parse_site(ECOMARKET + SHOP_CSP, "ecomarket.toml")


def test_declared_policy_allows_self_nonce_gatekeeper_services_and_shop_hosts(site):
    policy = directives(Policy(site).declared("n0nce"))
    assert policy["script-src"][:3] == ["'self'", "'nonce-n0nce'", "https://consent.ecomarket.be"]
    assert {"https://cdn.ecomarket.be", "https://js.stripe.com", "https://www.googletagmanager.com",
            "https://*.facebook.net", "https://*.nosto.com"} <= set(policy["script-src"])
    assert "https://consent.ecomarket.be" in policy["connect-src"]  # the consent API
    assert "https://consent.ecomarket.be" not in policy["img-src"]
    assert policy["font-src"] == ["'self'", "https://fonts.gstatic.com"]
    assert "style-src" not in policy  # the shop named no style hosts: its styles are left alone
    assert policy["object-src"] == ["'none'"] and "report-to" not in policy
    assert policy["report-uri"] == ["https://consent.ecomarket.be/api/v1/csp-report?site=ecomarket"]
    assert not any("unsafe" in s or s == "*" for sources in policy.values() for s in sources)


def test_narrowed_policy_holds_only_granted_categories(site):
    policy = Policy(site)
    nothing = directives(policy.header([], "n", decided=False))
    assert nothing["script-src"] == ["'self'", "'nonce-n'", "https://consent.ecomarket.be", "https://cdn.ecomarket.be", "https://js.stripe.com"]
    analytics = directives(policy.header(["analytics"], "n", decided=True))
    assert "https://*.google-analytics.com" in analytics["connect-src"]
    assert not {"https://*.googleadservices.com", "https://*.facebook.net"} & set(analytics["script-src"])
    assert analytics["report-uri"] == ["https://consent.ecomarket.be/api/v1/csp-report?site=ecomarket&decided=1"]


def test_templates_are_cached_per_decision_and_only_the_nonce_changes(site):
    policy = Policy(site)
    assert policy.template(["analytics"], True) is policy.template(("analytics",), True)
    assert policy.header(["analytics"], "a") .replace("'nonce-a'", "'nonce-b'") == policy.header(["analytics"], "b")


def test_an_explicit_report_uri_wins(site):
    policy = Policy(site, "https://monitor.example/api/v1/csp-report?x=1")
    assert policy.header([], "n", False).endswith("; report-uri https://monitor.example/api/v1/csp-report?x=1&site=ecomarket&decided=0")


# A Tag Manager container that analytics or personalisation releases (its category: analytics).
CONTAINER = """
[[services]]
id = "tag-manager"
preset = "gtm"
params = { container_id = "GTM-GK12345" }
loader = { categories = ["analytics", "personalisation"] }
"""


def site_texts() -> dict[str, str]:
    """Every shipped site file, the reference one with a shop's own [csp] table, and with a
    container of several categories."""
    shipped = {p.stem: p.read_text() for p in sorted(SITES_DIR.glob("*.toml"))}
    return {**shipped, "ecomarket+csp": ECOMARKET + SHOP_CSP, "ecomarket+container": ECOMARKET + CONTAINER}


def allowed_by_the_site_file(text: str, directive: str, categories: set[str]) -> set[str]:
    """What the site file itself (read with tomllib, not by Gatekeeper) and the catalog's
    host lists allow in `directive` for these categories, as CSP sources."""
    data = tomllib.loads(text)
    table = data.get("csp", {})
    allowed = set(table.get(directive, ()))
    if table.get("gatekeeper") and directive in ("script-src", "connect-src"):
        allowed.add(table["gatekeeper"])
    if directive not in HOST_DIRECTIVES:
        return allowed
    for service in data["services"]:
        loader = service.get("loader", {})
        preset = service.get("preset") or (loader.get("type") if loader.get("type") in catalog() else None)
        own = service.get("category", preset and catalog()[preset].category)
        if not categories & set(loader.get("categories") or [own]):
            continue  # a preset's own category unless the site file puts it elsewhere, or a container's several
        if preset:
            # CSP has no "any top-level domain": the catalog's www.google.* is sent as .com
            allowed |= {"https://" + h.host.removesuffix(".*") + (".com" if h.host.endswith(".*") else "") for h in catalog()[preset].hosts}
        elif loader.get("src"):
            parts = urlsplit(loader["src"])
            allowed.add(f"{parts.scheme}://{parts.netloc}")
    return allowed


def shop_guard(tmp_path, text: str, mode: str) -> tuple[Guard, list[tuple[tuple[str, ...] | None, Consent]]]:
    """gatekeeper.shop's Guard for a site file, and the Consent of each decision a visitor
    can hold: undecided (None), each optional category alone, all of them."""
    site_id = tomllib.loads(text)["id"]
    (tmp_path / f"{site_id}.toml").write_text(text)
    guard = Guard(site=site_id, sites_dir=str(tmp_path), keys="k", csp=mode)
    signer = TokenSigner(["k"])
    optional = guard.site.optional_categories
    visitors = [(None, guard.consent(""))]
    for granted in [(c,) for c in optional] + [optional]:
        token = signer.sign(ConsentToken(site=site_id, id="t", granted=granted, rev=guard.site.revision, iat=int(time.time())))
        visitors.append((granted, guard.consent(f"gk_consent={token}")))
    return guard, visitors


@pytest.mark.parametrize("mode", ["report", "enforce"])
@pytest.mark.parametrize("name", list(site_texts()))
def test_every_host_the_sent_policies_allow_comes_from_the_site_file_or_the_catalog(tmp_path, name, mode):
    """The headers a shop's middleware really sends, for every decision a visitor can hold:
    each source is a keyword, the response's nonce, or a host the site file names (its
    [csp] table, a script's URL) or the catalog lists for a service of a category that
    policy allows. No host is typed anywhere else."""
    text = site_texts()[name]
    guard, visitors = shop_guard(tmp_path, text, mode)
    seen_hosts = 0
    for granted, consent in visitors:
        for header, value in guard.headers(consent, "shop.test", True, html=True):
            if not header.startswith("content-security-policy"):
                continue  # the preload: test_every_preloaded_script_is_one_the_granted_policy_allows
            narrowed = header.endswith("report-only") or mode == "enforce"
            categories = {"necessary", *(consent.granted if narrowed else guard.site.optional_categories)}
            for directive, sources in directives(value).items():
                if directive in ("object-src", "base-uri", "report-uri"):
                    continue
                allowed = allowed_by_the_site_file(text, directive, categories)
                for source in sources:
                    if source in ("'self'", f"'nonce-{consent.csp_nonce}'"):
                        continue
                    assert source in allowed, f"{name}, {mode}, {header} for {granted}: {source} in {directive} is in neither the site file nor the catalog"
                    seen_hosts += 1
    assert seen_hosts > 0


def host_source_allows(source: str, url: str) -> bool:
    """CSP host-source matching, as far as the policies here need it: scheme, host or a
    leading *. wildcard, no port or path."""
    scheme, _, host = source.partition("://")
    parts = urlsplit(url)
    if parts.scheme != scheme:
        return False
    return parts.hostname.endswith(host[1:]) if host.startswith("*.") else parts.hostname == host


@pytest.mark.parametrize("mode", ["report", "enforce"])
@pytest.mark.parametrize("name", list(site_texts()))
def test_every_preloaded_script_is_one_the_granted_policy_allows(tmp_path, name, mode):
    """A returning visitor's preloaded tags pass the policy narrowed to their decision (the
    one enforced in "enforce" mode): a preload never adds a vendor the decision does not."""
    guard, visitors = shop_guard(tmp_path, site_texts()[name], mode)
    preloaded = 0
    for granted, consent in visitors[1:]:
        headers = dict(guard.headers(consent, "shop.test", True, html=True))
        narrowed = headers["content-security-policy" if mode == "enforce" else "content-security-policy-report-only"]
        script_src = directives(narrowed)["script-src"]
        for link in filter(None, headers.get("link", "").split(", ")):
            url = link[1:link.index(">")]
            assert any(host_source_allows(s, url) for s in script_src), f"{name} {mode} {granted}: {url} not in {script_src}"
            preloaded += 1
    assert preloaded > 0 or not any(guard.site.services)


# --- the [csp] table ---------------------------------------------------------------------

@pytest.mark.parametrize(
    "line, field, why",
    [
        ('script-src = ["*"]', "csp.script-src[0]", "allows every host"),
        ("script-src = [\"'unsafe-inline'\"]", "csp.script-src[0]", "'unsafe-inline' would let any inline"),
        ("connect-src = [\"'unsafe-eval'\"]", "csp.connect-src[0]", "'unsafe-eval'"),
        ("script-src = [\"'self'\"]", "csp.script-src[0]", "always allowed"),
        ('script-src = ["https:"]', "csp.script-src[0]", "every source with that scheme"),
        ('script-src = ["data:"]', "csp.script-src[0]", "every source with that scheme"),
        ('img-src = ["https://x.be", "cdn.*.example.com"]', "csp.img-src[1]", "wildcard may only stand for the first label"),
        ('img-src = ["*.be"]', "csp.img-src[0]", "whole top-level domain"),
        ('frame-src = ["https://pay.example; script-src https://evil.example"]', "csp.frame-src[0]", "not a host source"),
        ('font-src = ["ftp://fonts.example"]', "csp.font-src[0]", "scheme 'ftp'"),
        ('gatekeeper = "https://consent.example/path"', "csp.gatekeeper", "not an origin"),
    ],
)
def test_a_bad_csp_value_stops_start_up_naming_file_field_and_why(line, field, why):
    with pytest.raises(SiteError) as raised:
        parse_site(ECOMARKET + f"\n[csp]\n{line}\n", "sites/ecomarket.toml")
    assert str(raised.value).startswith(f"sites/ecomarket.toml: {field}: ")
    assert why in str(raised.value)


def test_unknown_csp_fields_and_types_are_refused_too():
    with pytest.raises(SiteError, match=r"ecomarket.toml: csp: Object contains unknown field `default-src`"):
        parse_site(ECOMARKET + '\n[csp]\ndefault-src = ["https://x.example"]\n', "ecomarket.toml")
    with pytest.raises(SiteError, match=r"ecomarket.toml: csp.script-src: Expected `array`, got `str`"):
        parse_site(ECOMARKET + '\n[csp]\nscript-src = "https://x.example"\n', "ecomarket.toml")


def test_good_sources_pass(site):
    good = parse_site(
        ECOMARKET + '\n[csp]\nscript-src = ["js.stripe.com", "https://*.stripe.com:443", "https://cdn.example/js/"]\n'
        'img-src = ["data:", "blob:"]\nconnect-src = ["wss://live.example"]\n',
        "ecomarket.toml",
    )
    assert good.csp.script_src == ("js.stripe.com", "https://*.stripe.com:443", "https://cdn.example/js/")
    assert re.search(r"img-src 'self' data: blob:", Policy(good).header([], "n"))
    assert urlsplit(site.csp.gatekeeper).netloc == "consent.ecomarket.be"


# --- gatekeeper csp SITE -----------------------------------------------------------------

def test_csp_command_prints_the_policy_the_middleware_enforces(sites):
    from click.testing import CliRunner

    from gatekeeper.cli import main

    result = CliRunner().invoke(main, ["csp", "ecomarket", "--sites-dir", str(SITES_DIR)])
    assert result.exit_code == 0, result.output
    (header,) = result.output.splitlines()
    assert header == "Content-Security-Policy: " + Policy(sites["ecomarket"]).declared("N").replace(" 'nonce-N'", "")
    assert header.endswith("; report-uri /api/v1/csp-report?site=ecomarket")

    nginx = CliRunner().invoke(main, ["csp", "ecomarket", "--sites-dir", str(SITES_DIR), "--format", "nginx", "--nonce", "$request_id"])
    (line,) = nginx.output.splitlines()
    assert line.startswith("add_header Content-Security-Policy \"script-src 'self' 'nonce-$request_id' https://")
    assert line.endswith('report-uri /api/v1/csp-report?site=ecomarket" always;') and line.count('"') == 2


def test_csp_command_on_an_unknown_site_says_which_exist():
    from click.testing import CliRunner

    from gatekeeper.cli import main

    result = CliRunner().invoke(main, ["csp", "nope", "--sites-dir", str(SITES_DIR)])
    assert result.exit_code == 1 and "no site 'nope' (found ecomarket, locomail)" in result.output
