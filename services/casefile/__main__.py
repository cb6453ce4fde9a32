"""`python -m services.casefile`: serve casefile over HTTP."""

import uvicorn

from services.casefile.app import create_app
from services.casefile.config import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run(
        create_app(settings), host=settings.http_host, port=settings.http_port,
        log_config=None, access_log=False,
        # The audit of access decides whom to believe about X-Forwarded-For (TRUSTED_PROXIES):
        # uvicorn would otherwise take it from any local process as the client's address.
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
