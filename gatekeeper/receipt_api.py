"""Receipts over HTTP: one consent id's records with the banner texts they were made on and
a signed JWT anyone can verify, the public keys for that (JWKS), and "download my
receipt" for the visitor whose browser holds the consent cookie.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import answers, errors, receipt_tokens, receipts
from .api import JSON
from .cookies import COOKIE_NAME
from .sites import known_site

JWKS_PATH = "/.well-known/jwks.json"


def _document(request: Request, found: receipts.Receipt) -> answers.Receipt:
    site = found.records[0].site
    decisions = receipt_tokens.decisions(found.records, found.positions)
    issuer = str(request.base_url).rstrip("/")
    return answers.Receipt(
        consent_id=found.consent_id,
        site=site,
        records=[
            answers.ReceiptRecord(
                action=r.action,
                recorded_at=r.created_at.isoformat(),
                categories=r.categories,
                revision=r.revision,
                language=r.language,
                source=r.source,
                text_hash=r.text_hash,
                chain=answers.ChainPosition(seq=at.seq, prev_hash=at.prev_hash, record_hash=at.record_hash),
            )
            for r, at in reversed(list(zip(found.records, found.positions)))
        ],
        # What the visitor was shown, by the hash each record carries: its words, the
        # exact markup and the public config, verified against the hash.
        texts={
            text_hash: answers.ShownText(
                language=t.language,
                revision=t.revision,
                first_seen=t.first_seen.isoformat(),
                verified=t.verified,
                text=t.text,
                markup=t.markup,
                config=t.config,
                chain=answers.ChainPosition(seq=t.seq, prev_hash=t.prev_hash, record_hash=t.record_hash),
            )
            for text_hash, t in found.texts.items()
        },
        # The same decisions, signed: verify it against `jwks_uri` with any JOSE library.
        receipt=request.app.state.receipt_signer.sign(issuer, found.consent_id, site, decisions),
        jwks_uri=issuer + JWKS_PATH,
    )


async def _answer(request: Request, consent_id: str, download: bool) -> Response:
    found = await receipts.receipt(request.app.state.engine, request.app.state.consent_log, consent_id)
    if found is None:
        raise errors.NotFound(f"no consent with id {consent_id!r}")
    headers = {"Cache-Control": "no-store"}
    if download:
        headers["Content-Disposition"] = f'attachment; filename="consent-receipt-{consent_id}.json"'
    return JSON(_document(request, found), headers=headers)


async def get_receipt(request: Request) -> Response:
    return await _answer(request, request.path_params["consent_id"], request.query_params.get("download") == "1")


async def my_receipt(request: Request) -> Response:
    """The preferences layer's "Download my receipt": the consent id is this browser's cookie's."""
    site = known_site(request.app.state.sites, request.query_params.get("site"))
    token = request.app.state.signer.verify(request.cookies.get(COOKIE_NAME))
    if token is None or token.site != site.id:
        raise errors.NotFound(f"this browser holds no recorded decision for site {site.id!r}")
    return await _answer(request, token.id, download=True)


async def jwks(request: Request) -> Response:
    # Public keys: any verifier, from anywhere, may fetch them.
    return JSON(answers.Jwks(**request.app.state.receipt_signer.jwks()),
                headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"})


routes = [
    Route("/api/v1/receipt", my_receipt, methods=["GET"]),
    Route("/api/v1/consent/{consent_id}", get_receipt, methods=["GET"]),
    Route(JWKS_PATH, jwks, methods=["GET"]),
]
