"""Decisions: what a visitor chose, checked against the site, three-state per category.

All rules about what makes a decision valid live here; the API only carries them.
A category a decision does not name is undecided, and undecided never means granted.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from . import errors
from .sites import Site, explain

Source = Literal["banner", "preferences", "placeholder", "gpc", "api"]

# What a consent record says happened (its `action`), first decision or a later one alike:
# a decision that grants at least one optional category, a decision that grants none, or
# a withdrawal through the withdraw control (DELETE). Whether a decision replaced an
# earlier one is told by the earlier records of the same consent id.
Action = Literal["grant", "refuse", "withdraw"]
ACTIONS: tuple[Action, ...] = ("grant", "refuse", "withdraw")
MAX_BODY_BYTES = 4096


class ConsentRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    site: Annotated[str, msgspec.Meta(max_length=40)]
    categories: dict[Annotated[str, msgspec.Meta(max_length=40)], bool]
    revision: int
    language: Annotated[str, msgspec.Meta(max_length=8)] | None = None
    source: Source = "banner"


class WithdrawalRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    site: Annotated[str, msgspec.Meta(max_length=40)]
    language: Annotated[str, msgspec.Meta(max_length=8)] | None = None
    source: Source = "banner"


class Decision(msgspec.Struct, frozen=True):
    """Every category of the site explicitly true or false, under one revision."""

    categories: dict[str, bool]
    revision: int

    @property
    def granted(self) -> tuple[str, ...]:
        return tuple(c for c, on in self.categories.items() if on and c != "necessary")

    @property
    def action(self) -> Action:
        return "grant" if self.granted else "refuse"


def decode(body: bytes, kind: type[msgspec.Struct]):
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as exc:
        field, message = explain(exc, "body")
        raise errors.InvalidField(f"{field}: {message}", field=field) from None
    except msgspec.DecodeError as exc:
        raise errors.InvalidJSON(f"the body is not valid JSON: {exc}") from None


def decide(site: Site, request: ConsentRequest) -> Decision:
    """The decision a request states, or the precise reason it cannot be recorded."""
    known = site.category_ids
    unknown = sorted(set(request.categories) - set(known))
    if unknown:
        raise errors.UnknownCategory(
            f"unknown category {unknown[0]!r} for site {site.id!r} (expected {', '.join(known)})", category=unknown[0]
        )
    missing = [c for c in site.optional_categories if c not in request.categories]
    if missing:
        raise errors.MissingCategory(
            f"category {missing[0]!r} is missing: every category must be explicitly true or false",
            category=missing[0],
        )
    if request.categories.get("necessary") is False:
        raise errors.InvalidField("categories.necessary: necessary cookies cannot be refused", field="categories.necessary")
    if request.revision != site.revision:
        raise errors.StaleRevision(
            f"revision {request.revision} is not the site's current revision {site.revision}: ask the visitor again",
            revision=site.revision,
        )
    categories = {"necessary": True} | {c: request.categories[c] for c in site.optional_categories}
    return Decision(categories=categories, revision=site.revision)


def honour_gpc(decision: Decision, source: str, gpc: bool) -> tuple[Decision, str]:
    """Global Privacy Control (`Sec-GPC: 1`) opts out of marketing and never counts as consent.

    "Accept all" on the first layer leaves marketing off (only switching it on in the
    preferences overrides the signal), and a decision without marketing made under the
    signal is recorded with source `gpc`, whatever the bundle could tell.
    """
    if not gpc or "marketing" not in decision.categories:
        return decision, source
    if source in ("banner", "gpc") and decision.categories["marketing"]:
        decision = Decision(categories={**decision.categories, "marketing": False}, revision=decision.revision)
    if not decision.categories["marketing"] and source in ("banner", "preferences", "gpc"):
        source = "gpc"
    return decision, source


def refusal(site: Site) -> Decision:
    return Decision(categories={"necessary": True} | {c: False for c in site.optional_categories}, revision=site.revision)


def language_for(site: Site, language: str | None) -> str:
    """The language the visitor saw: theirs if the site has it, else the site's first."""
    primary = (language or "").split("-")[0].lower()
    return primary if primary in site.languages else site.default_language
