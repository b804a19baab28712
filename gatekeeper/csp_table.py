"""The site file's `[csp]` table: the shop's own necessary hosts (CDN, payments, fonts) and
where Gatekeeper is served, checked as Content-Security-Policy sources at start-up.

A value that would open the policy to every host or to inline code stops start-up with
the field and why: the enforced policy is the site's declaration made true by the
browser, and one `*` or `'unsafe-inline'` would let any forgotten tag through.
Grammar: CSP Level 3, "host-source" and "scheme-source" (w3.org/TR/CSP3/#grammardef-host-source).
"""

from __future__ import annotations

import re
from typing import Annotated

import msgspec

# Directives a shop may widen; script/connect/img/frame also get the services' hosts.
DIRECTIVES = ("script-src", "connect-src", "img-src", "frame-src", "style-src", "font-src")
# `data:` is a common, harmless source of images and fonts; as a script it runs any code.
SCHEME_SOURCES = {"img-src": ("data:", "blob:"), "font-src": ("data:",), "style-src": (), "connect-src": ()}

_HOST_SOURCE = re.compile(
    r"^(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?"
    r"(?P<host>(?:\*\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)"
    r"(?::(?:[0-9]{1,5}|\*))?"
    r"(?P<path>/[A-Za-z0-9._~!$&'()+=:@%/-]*)?$"
)
_ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$")

Sources = Annotated[tuple[Annotated[str, msgspec.Meta(max_length=200)], ...], msgspec.Meta(max_length=50)]


def source_problem(directive: str, value: str) -> str | None:
    """Why `value` may not stand in `directive` of the enforced policy, or None."""
    if value.startswith("'"):
        if value == "'self'":
            return "'self' is always allowed; remove it"
        if value in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'strict-dynamic'"):
            return f"{value} would let any inline or injected tag run, forgotten snippets included; give your own scripts the nonce (consent.csp_nonce) instead"
        return f"{value}: keywords are not allowed here; Gatekeeper adds 'self' and the page's nonce itself"
    if value == "*":
        return "'*' allows every host, so a vendor missing from the site file could load"
    if re.fullmatch(r"[a-z][a-z0-9+.-]*:", value):
        if value in SCHEME_SOURCES.get(directive, ()):
            return None
        return f"{value!r} allows every source with that scheme; name the hosts (for example https://cdn.example.com)"
    host = re.split(r"[:/]", value.split("://", 1)[-1], maxsplit=1)[0]
    if "*" in host.removeprefix("*."):
        return f"{value!r}: a wildcard may only stand for the first label of a host, as in *.example.com"
    match = _HOST_SOURCE.match(value)
    if match is None:
        return f"{value!r} is not a host source (expected e.g. https://cdn.example.com or *.example.com, no spaces, ';' or ',')"
    if match["scheme"] not in (None, "https", "http", "wss", "ws"):
        return f"{value!r}: scheme {match['scheme']!r} (expected https, http, wss or ws)"
    if host.startswith("*.") and host.count(".") < 2:
        return f"{value!r}: a wildcard over a whole top-level domain allows every site under it"
    return None


class CspTable(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, rename="kebab"):
    # Where the bundle and the consent API are served when not on the shop's own origin,
    # e.g. "https://consent.shop.example"; the policy allows it and reports go there.
    gatekeeper: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    script_src: Sources = ()
    connect_src: Sources = ()
    img_src: Sources = ()
    frame_src: Sources = ()
    style_src: Sources = ()
    font_src: Sources = ()

    def sources(self, directive: str) -> tuple[str, ...]:
        return getattr(self, directive.replace("-", "_"))

    def problems(self) -> list[tuple[str, str]]:
        """(field, why) of every source that may not stand where it is."""
        found = []
        if self.gatekeeper is not None and not _ORIGIN.match(self.gatekeeper):
            found.append(("csp.gatekeeper", f"{self.gatekeeper!r} is not an origin (expected e.g. https://consent.shop.example, no path)"))
        for directive in DIRECTIVES:
            for i, value in enumerate(self.sources(directive)):
                why = source_problem(directive, value)
                if why:
                    found.append((f"csp.{directive}[{i}]", why))
        return found
