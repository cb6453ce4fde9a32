"""`python -m services.web`: serve the caseworkers' web app over HTTP."""

import uvicorn

from contracts.http_security import uvicorn_proxy_options
from services.web.app import create_app
from services.web.config import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port,
                log_config=None, access_log=False, **uvicorn_proxy_options(settings))


if __name__ == "__main__":
    main()
