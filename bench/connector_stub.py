"""A local stand-in for the Teams connector: accepts replies and answers like Bot Framework does.

Run: python -m bench.connector_stub PORT. Runs in its own process so its CPU is not counted as the
bot's.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Sequence

from aiohttp import web


def main(argv: Sequence[str] | None = None) -> int:
    port = int((sys.argv[1:] if argv is None else argv)[0])
    ids = itertools.count(1)

    async def activities(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"id": str(next(ids))})

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_post("/v3/conversations/{conversation}/activities", activities)
    app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", activities)
    app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", activities)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
