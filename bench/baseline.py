"""The baseline: a FastAPI endpoint doing no work, served exactly as intake is.

`python -m bench.baseline` listens on HTTP_PORT. Its throughput is what the framework, server
and load generator manage on this machine with nothing behind them: the ceiling intake's
figures are read against.
"""

from __future__ import annotations

import os

from fastapi import FastAPI, status

from services.intake.__main__ import serve


def create_app() -> FastAPI:
    app = FastAPI(title="baseline")

    @app.post("/noop", status_code=status.HTTP_201_CREATED)
    async def noop() -> dict[str, bool]:
        return {"accepted": True}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    return app


if __name__ == "__main__":
    serve(create_app(), host="127.0.0.1", port=int(os.environ["HTTP_PORT"]))
