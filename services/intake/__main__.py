"""`python -m services.intake`: serve intake over HTTP."""

import gc

import uvicorn
from fastapi import FastAPI

from contracts.http_security import uvicorn_proxy_options
from services.intake.app import create_app
from services.intake.config import Settings


def serve(app: FastAPI, *, host: str, port: int, **options) -> None:
    """Serve an app as intake is served (bench.baseline reuses this to compare like with like)."""
    # What exists now (modules, models, routes) lives as long as the process. Frozen, it is no
    # longer rescanned by every full collection, which under load otherwise ran about once a
    # second and held up every request for some 80 ms.
    gc.freeze()
    uvicorn.run(
        app, host=host, port=port, log_config=None, access_log=False,
        # "auto" picks uvloop and httptools when installed (they are locked), asyncio and h11 if not.
        loop="auto", http="auto", **options,
    )


def main() -> None:
    settings = Settings()
    serve(create_app(settings), host=settings.http_host, port=settings.http_port,
          **uvicorn_proxy_options(settings))


if __name__ == "__main__":
    main()
