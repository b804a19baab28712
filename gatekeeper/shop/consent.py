"""What the shop-side middlewares do per request, without any web framework: read and
verify `gk_consent`, make the request's Consent, and the headers its response gets (the
consent-aware CSP and the preload of the granted tags on HTML, expired cookies of
categories not allowed).
"""

from __future__ import annotations

import html
import os
import re
import time
from collections import deque
from functools import lru_cache
from collections.abc import Sequence
from typing import Literal
from urllib.parse import quote

from ..cookies import COOKIE_NAME, header_cookies, one_value, set_cookie_header, withdrawal_matcher, withdrawn_names
from ..csp import NONCE, Policy
from ..decisions import Decision, language_for
from ..loaders import released_scripts
from ..sites import Site, load_site
from ..tokens import ConsentToken, verifier

CspMode = Literal["report", "enforce", "off"]
# What a URL keeps as it is in a preload: printable ASCII but the two that delimit it, and
# the braces, so a URL never holds the {nonce} placeholder the headers are split on.
_URL_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "<>{}")
CSP_MODES = ("report", "enforce", "off")
# Every `gk_consent` value of a Cookie header, as header_cookies reads them, in one search
# of ";" + the header (a literal first character lets the regex engine skip ahead fast).
_CONSENT_VALUES = re.compile(rf";\s*{re.escape(COOKIE_NAME)}\s*=([^;]*)")


# Nonces are read from the OS 256 at a time (one system call instead of one per page).
# popleft() is atomic, so threads never share one, and a forked worker drops its parent's.
_nonces: deque[str] = deque()
os.register_at_fork(after_in_child=_nonces.clear)


def _fresh_nonce() -> str:
    try:
        return _nonces.popleft()
    except IndexError:
        pool = os.urandom(16 * 256)
        _nonces.extend(pool[i : i + 16].hex() for i in range(16, len(pool), 16))
        return pool[:16].hex()


class Html(str):
    """Markup that templates (Jinja2, Django) insert as is: its parts are escaped here."""

    def __html__(self) -> str:
        return self


class Consent:
    """One request's verified consent, as the shop's views and templates see it.

    Undecided (no cookie, a forged, stale, expired or another site's one) is `decision`
    None, and then nothing but `necessary` is allowed.
    """

    __slots__ = ("site", "token", "gpc", "cookies", "granted", "answer", "language", "_guard", "_nonce")

    def __init__(self, guard: Guard, token: ConsentToken | None, gpc: bool, cookies: str = "") -> None:
        self.site: Site = guard.site
        self.token = token
        self.gpc = gpc  # the browser sent Sec-GPC: 1 (an opt-out, never consent)
        self.cookies = cookies  # the request's Cookie header, for the purge
        # What this decision gets in a response: its policies and the cookies it expires.
        self.answer = guard.answer(token)
        # The optional categories this visitor granted (none while undecided), site order.
        self.granted: tuple[str, ...] = self.answer.granted
        # The page's language when the framework knows it (Django's LocaleMiddleware).
        self.language: str | None = None
        self._guard = guard
        self._nonce: str | None = None

    @property
    def csp_nonce(self) -> str:
        """This response's nonce, made when first asked for (by the page or its policy):
        128 bits from the OS's CSPRNG, hex (a valid CSP base64-value)."""
        if self._nonce is None:
            self._nonce = _fresh_nonce()
        return self._nonce

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

    def script_tag(self, lang: str | None = None) -> Html:
        """Gatekeeper's tag with this response's nonce, for a page in `lang` (or the
        language the framework knows), so it loads that language's bundle only; in
        "enforce" mode it also asks the bundle to reload after a choice that grants more
        (a sent CSP cannot widen)."""
        return Html(self.csp_nonce.join(self._guard.tag(lang or self.language)))  # the nonce is hex: nothing to escape

    def __repr__(self) -> str:
        return f"<Consent {self.site.id} granted={list(self.granted) if self.token else None} gpc={self.gpc}>"


def _parent_domains(host: str) -> list[str]:
    """The host and each domain above it, as cookies may have been set for (not the TLD)."""
    host = host.split(":")[0].rstrip(".").lower() if not host.startswith("[") else ""
    labels = host.split(".")
    if len(labels) < 2 or labels[-1].isdecimal():  # a bare name or an IPv4 address
        return []
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def preload_link(urls: Sequence[str]) -> str:
    """A Link header preloading `urls` as classic scripts (RFC 8288; rel=preload, as=script
    in the HTML standard). A URL is percent-encoded as a browser would parse it (UTF-8,
    `<`, `>`, and the braces: see _URL_SAFE), so the preload is the very request the gate's
    `<script src>` makes."""
    return ", ".join(f"<{quote(url, safe=_URL_SAFE)}>; rel=preload; as=script" for url in urls)


class Answer:
    """What every response to one decision state (granted categories, decided or not)
    gets, worked out once: its page headers (the CSP split around the nonce, the preload
    of the granted tags) and which cookie names it expires. A request then pays for a join
    and a dictionary lookup."""

    __slots__ = ("granted", "page_headers", "raw_page_headers", "refused", "matcher", "candidates")

    def __init__(self, guard: Guard, granted: tuple[str, ...], decided: bool) -> None:
        self.granted = granted
        self.refused = tuple(c for c in guard.optional if c not in granted)
        self.matcher = withdrawal_matcher(guard.site, self.refused) if self.refused else None
        # One search of the whole Cookie header finds whether any of those may be there: a
        # superset of the matcher's names (a name never holds ';' or '='), so the header is
        # only split into names when something may have to be expired.
        self.candidates = re.compile(rf";\s*(?:{self.matcher.pattern})\s*=") if self.matcher else None
        policy = guard.policy
        if guard.mode == "off":
            headers = []
        elif guard.mode == "enforce":
            headers = [("content-security-policy", policy.template(granted, decided))]
        else:
            headers = [
                ("content-security-policy", policy.template(guard.optional, decided)),
                ("content-security-policy-report-only", policy.template(granted, decided)),
            ]
        # A returning visitor's granted tags start downloading with the page, before the
        # bundle has even arrived; the gate's own <script src> then takes the response.
        scripts = released_scripts(guard.site.services, guard.optional, granted) if guard.preload and decided else []
        if scripts:
            headers.append(("link", preload_link(scripts)))
        if headers:
            # They depend on the visitor's cookie: no cache (the browser's, a CDN, Django's)
            # may hand them to another visitor, or to this one after a withdrawal.
            headers.append(("vary", "Cookie"))
        self.page_headers = [(name, tuple(value.split(NONCE))) for name, value in headers]
        self.raw_page_headers = [(name.encode(), tuple(p.encode("latin-1") for p in parts)) for name, parts in self.page_headers]


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
        preload: bool = True,
    ) -> None:
        if csp not in CSP_MODES:
            raise ValueError(f"csp={csp!r}: expected one of {', '.join(CSP_MODES)}")
        self.site = load_site(sites_dir, site)
        self.optional = self.site.optional_categories
        self.verifier = verifier(keys)
        # A visitor sends the same cookie on every page: its signature is checked once.
        # The check is cached keyed by the whole value (bounded), with the period the token
        # holds for this site; the clock is read against that period on every request.
        self._verified = lru_cache(maxsize=4096)(self._verify)
        self.mode = csp
        self.preload = preload
        src = html.escape(f"{self.site.csp.gatekeeper or ''}/gk/{self.site.id}.js")
        reload = " data-gk-reload" if csp == "enforce" else ""
        # The tag around its nonce: per language of the site, the bundle with that language's
        # banner only (?lang=); with every language (None) only for a page of unknown language.
        self._tags = {
            lang: (f'<script src="{src}{query}" nonce="', f'"{reload} async></script>')
            for lang, query in [(None, ""), *((lang, f"?lang={lang}") for lang in self.site.languages)]
        }
        self.policy = Policy(self.site, report_uri)
        # One Answer per decision state: at most two per subset of the site's categories.
        self._answers: dict[tuple[tuple[str, ...], bool], Answer] = {}

    def tag(self, language: str | None) -> tuple[str, str]:
        """The script tag, split around its nonce, for a page in `language` (a language tag
        such as "de-BE"): the bundle of that language, or of the site's first one when the
        site does not offer it (the banner the every-language bundle would show there too).
        A site with one language always gets its one-language bundle."""
        languages = self.site.languages
        if language is None:
            return self._tags[languages[0] if len(languages) == 1 else None]
        return self._tags[language_for(self.site, language.replace("_", "-"))]  # as the log names it

    def answer(self, token: ConsentToken | None) -> Answer:
        key = (token.granted, True) if token is not None else ((), False)
        found = self._answers.get(key)
        if found is None:
            found = Answer(self, tuple(c for c in self.optional if c in key[0]), key[1])
            if len(self._answers) < 1024:  # tokens are ours, but a bound costs nothing
                self._answers[key] = found
        return found

    def _verify(self, value: str) -> tuple[ConsentToken, int, int] | None:
        token = self.verifier.verify(value)
        window = token.valid_between(self.site) if token is not None else None
        return (token, *window) if window is not None else None

    def consent(self, cookie_header: str, gpc: str | None = None) -> Consent:
        """The request's Consent from its Cookie and Sec-GPC headers. Two `gk_consent`
        cookies that disagree (one planted next to a genuine one) read as undecided."""
        token = None
        if cookie_header:
            values = _CONSENT_VALUES.findall(";" + cookie_header)
            value = values[0].strip() if len(values) == 1 else one_value([v.strip() for v in values])
            verified = self._verified(value) if value else None
            if verified is not None and verified[1] <= time.time() < verified[2]:
                token = verified[0]
        return Consent(self, token, gpc == "1", cookie_header)

    def page_headers(self, consent: Consent) -> list[tuple[str, str]]:
        """The headers of an HTML response (lower-case names): the CSP, none in "off" mode,
        and the preload of the tags a decided visitor's decision releases."""
        headers = consent.answer.page_headers
        return [(name, consent.csp_nonce.join(parts)) for name, parts in headers] if headers else []

    def raw_page_headers(self, consent: Consent) -> list[tuple[bytes, bytes]]:
        """page_headers as ASGI sends them (bytes)."""
        headers = consent.answer.raw_page_headers
        if not headers:
            return []
        nonce = consent.csp_nonce.encode()
        return [(name, nonce.join(parts)) for name, parts in headers]

    def expired(self, consent: Consent, host: str) -> list[tuple[str, str | None]]:
        """(name, domain) of each cookie to expire: the declared cookies of every category
        not allowed that the browser sent, host-only (None) and on each domain above."""
        answer = consent.answer
        if answer.candidates is None or not answer.candidates.search(";" + consent.cookies):
            return []
        names = header_cookies(consent.cookies)[0]
        expired = withdrawn_names(names, self.site, answer.refused, answer.matcher)
        if not expired:
            return []
        domains = [None, *_parent_domains(host)]
        return [(name, domain) for name in expired for domain in domains]

    def expiry_headers(self, consent: Consent, host: str, secure: bool) -> list[tuple[str, str]]:
        return [("set-cookie", set_cookie_header(n, '""', 0, d, secure)) for n, d in self.expired(consent, host)]

    def headers(self, consent: Consent, host: str, secure: bool, html: bool) -> list[tuple[str, str]]:
        """Every header the middleware adds to a response (lower-case names)."""
        added = self.page_headers(consent) if html else []
        return added + self.expiry_headers(consent, host, secure)


class Middleware:
    """What the ASGI and WSGI middlewares share (asgi.py, wsgi.py): the app they wrap and
    the site's Guard, made from the options Guard takes (site, sites_dir, keys, csp,
    report_uri), so a wrong or missing option fails the same way in both."""

    def __init__(self, app, **options) -> None:
        self.app = app
        self.guard = Guard(**options)
