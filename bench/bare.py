"""The baseline: a bare Starlette JSON endpoint under the same uvicorn, nothing else.

It parses the body and answers 201 with a small JSON document, like the consent API
does minus validation, signing and the consent log. `python -m bench.bare PORT` serves
it with `gatekeeper serve`'s HTTP protocol instead of uvicorn's own (each answer in one
send, gatekeeper/http_protocol.py), to show how much of a ratio that protocol makes.
"""

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def consent(request: Request) -> JSONResponse:
    body = json.loads(await request.body())
    return JSONResponse({"status": "recorded", "site": body.get("site")}, status_code=201)


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/api/v1/consent", consent, methods=["POST"]), Route("/healthz", healthz)])


if __name__ == "__main__":
    import sys

    import uvicorn

    from gatekeeper.http_protocol import GatekeeperProtocol

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", server_header=False,
                access_log=False, http=GatekeeperProtocol)
