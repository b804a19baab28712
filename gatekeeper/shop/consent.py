"""What the shop-side middlewares do per request, without any web framework: read and
verify `gk_consent`, make the request's Consent, and the headers its response gets (the
consent-aware CSP on HTML, expired cookies of categories not allowed).
"""

from __future__ import annotations

import html
import re
import secrets
from functools import lru_cache
from collections.abc import Sequence
from typing import Literal

from ..cookies import header_cookies, one_value, set_cookie_header, withdrawal_matcher, withdrawn_names
from ..csp import Policy
from ..decisions import Decision
from ..sites import Site, load_site
from ..tokens import ConsentToken, verifier

CspMode = Literal["report", "enforce", "off"]
CSP_MODES = ("report", "enforce", "off")


class Html(str):
    """Markup that templates (Jinja2, Django) insert as is: its parts are escaped here."""

    def __html__(self) -> str:
        return self


class Consent:
    """One request's verified consent, as the shop's views and templates see it.

    Undecided (no cookie, a forged, stale, expired or another site's one) is `decision`
    None, and then nothing but `necessary` is allowed.
    """

    __slots__ = ("site", "token", "gpc", "csp_nonce", "granted", "_guard")

    def __init__(self, guard: Guard, token: ConsentToken | None, gpc: bool) -> None:
        self.site: Site = guard.site
        self.token = token
        self.gpc = gpc  # the browser sent Sec-GPC: 1 (an opt-out, never consent)
        self.csp_nonce = secrets.token_urlsafe(16)
        # The optional categories this visitor granted (none while undecided), site order.
        self.granted: tuple[str, ...] = tuple(c for c in guard.optional if c in token.granted) if token else ()
        self._guard = guard

    def allows(self, category: str) -> bool:
        return category == "necessary" or category in self.granted

    @property
    def allowed(self) -> dict[str, bool]:
        """Every category of the site with whether it is allowed, for templates that
        cannot call `allows()` (Django's: `{% if gatekeeper.allowed.analytics %}`)."""
        return {c: self.allows(c) for c in ("necessary", *self._guard.optional)}

    @property
    def decision(self) -> Decision | None:
        if self.token is None:
            return None
        return Decision(categories=self.allowed, revision=self.token.rev)

    @property
    def consent_id(self) -> str | None:
        return self.token.id if self.token else None

    def script_tag(self) -> Html:
        """Gatekeeper's tag with this response's nonce; in "enforce" mode it also asks the
        bundle to reload after a choice that grants more (a sent CSP cannot widen)."""
        src = html.escape(f"{self.site.csp.gatekeeper or ''}/gk/{self.site.id}.js")
        reload = " data-gk-reload" if self._guard.mode == "enforce" else ""
        return Html(f'<script src="{src}" nonce="{html.escape(self.csp_nonce)}"{reload} async></script>')

    def __repr__(self) -> str:
        return f"<Consent {self.site.id} granted={list(self.granted) if self.token else None} gpc={self.gpc}>"


def _parent_domains(host: str) -> list[str]:
    """The host and each domain above it, as cookies may have been set for (not the TLD)."""
    host = host.split(":")[0].rstrip(".").lower() if not host.startswith("[") else ""
    labels = host.split(".")
    if len(labels) < 2 or labels[-1].isdecimal():  # a bare name or an IPv4 address
        return []
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


class Guard:
    """A site's verifier and policy, configured once; per request it makes a Consent and
    the response's extra headers. Both middlewares are thin wrappers around it."""

    def __init__(
        self,
        *,
        site: str,
        sites_dir: str,
        keys: str | Sequence[str],
        csp: CspMode = "report",
        report_uri: str | None = None,
    ) -> None:
        if csp not in CSP_MODES:
            raise ValueError(f"csp={csp!r}: expected one of {', '.join(CSP_MODES)}")
        self.site = load_site(sites_dir, site)
        self.optional = self.site.optional_categories
        self.verifier = verifier(keys)
        # A visitor sends the same cookie on every page: its signature is checked once.
        # Only what verified is cached, keyed by the whole value; expiry is checked each time.
        self._verified = lru_cache(maxsize=4096)(self.verifier.verify)
        self._matchers: dict[tuple[str, ...], re.Pattern[str]] = {}
        self.mode = csp
        self.policy = Policy(self.site, report_uri)

    def consent(self, cookie_header: str, gpc: str | None = None) -> tuple[Consent, list[str]]:
        """The request's Consent and the cookie names it sent. Two `gk_consent` cookies that
        disagree (one planted next to a genuine one) read as undecided."""
        names, values = header_cookies(cookie_header) if cookie_header else ([], [])
        value = one_value(values)
        token = self._verified(value) if value else None
        if token is not None and not token.is_current(self.site):
            token = None
        return Consent(self, token, gpc == "1"), names

    def policy_headers(self, consent: Consent) -> list[tuple[str, str]]:
        """The CSP headers of an HTML response (lower-case names); none in "off" mode."""
        if self.mode == "off":
            return []
        decided = consent.token is not None
        granted = consent.granted
        if self.mode == "enforce":
            policies = [("content-security-policy", self.policy.header(granted, consent.csp_nonce, decided))]
        else:
            policies = [
                ("content-security-policy", self.policy.declared(consent.csp_nonce, decided)),
                ("content-security-policy-report-only", self.policy.header(granted, consent.csp_nonce, decided)),
            ]
        return policies

    def expired(self, consent: Consent, names: list[str], host: str) -> list[tuple[str, str | None]]:
        """(name, domain) of each cookie to expire: the declared cookies of every category
        not allowed that the browser sent, host-only (None) and on each domain above."""
        refused = tuple(c for c in self.optional if c not in consent.granted)
        if not refused or not names:
            return []
        matcher = self._matchers.get(refused)
        if matcher is None:
            matcher = self._matchers[refused] = withdrawal_matcher(self.site, refused)
        expired = withdrawn_names(names, self.site, refused, matcher)
        if not expired:
            return []
        domains = [None, *_parent_domains(host)]
        return [(name, domain) for name in expired for domain in domains]

    def headers(self, consent: Consent, names: list[str], host: str, secure: bool, html: bool) -> list[tuple[str, str]]:
        """Every header the middleware adds to a response (lower-case names)."""
        added = self.policy_headers(consent) if html else []
        added += [("set-cookie", set_cookie_header(n, '""', 0, d, secure)) for n, d in self.expired(consent, names, host)]
        return added
