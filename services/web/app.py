"""Builds the web app: its pages, templates, languages and the clients of the services."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import structlog
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from contracts.http_security import BodySizeLimit, SecureResponses
from services.web import auth_routes, case_routes, record_routes, today_routes
from services.web.backends import Backends, Unavailable
from services.web.config import Settings
from services.web.i18n import load_languages
from services.web.logs import configure_logging
from services.web.messages import enum_values
from services.web.pages import LoginRequired, NotAllowed, login_redirect, page, renew_cookies

log = structlog.get_logger()
HERE = Path(__file__).parent
# Pages load their styles from here and nothing else; no script runs at all.
PAGE_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
               "frame-ancestors 'none'; base-uri 'none'")


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(settings: Settings | None = None, *,
               clock: Callable[[], datetime] = utc_now) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("web", fmt=settings.log_format, level=settings.log_level)
        app.state.settings, app.state.clock = settings, clock
        app.state.languages = load_languages(settings.translations_dir)
        app.state.codes = enum_values()
        app.state.templates = Jinja2Templates(directory=HERE / "templates")
        app.state.backends = Backends(settings)
        log.info("web_started", port=settings.http_port, languages=sorted(app.state.languages))
        try:
            yield
        finally:
            await app.state.backends.close()

    app = FastAPI(title="web", lifespan=lifespan, openapi_url=None, docs_url=None,
                  redoc_url=None)
    for module in (auth_routes, today_routes, record_routes, case_routes):  # /cases/new first
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def page_headers(request: Request, call_next) -> Response:
        response = await call_next(request)
        renew_cookies(request, response, settings.cookie_secure)
        response.headers.setdefault("content-security-policy", PAGE_POLICY)
        return response

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecureResponses, hsts=f"max-age={settings.hsts_max_age_seconds}",
                       behind_tls=settings.behind_tls)
    _add_error_pages(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    return app


def _add_error_pages(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return login_redirect(request)

    @app.exception_handler(NotAllowed)
    async def not_allowed(request: Request, exc: NotAllowed) -> HTMLResponse:
        return page(request).render("error.html", exc.status, status=exc.status, message=None)

    @app.exception_handler(Unavailable)
    async def unavailable(request: Request, exc: Unavailable) -> HTMLResponse:
        return page(request).render("error.html", 503, status=503, service=exc.service,
                                    message=None)

    @app.exception_handler(RequestValidationError)
    async def invalid_address(request: Request, exc: RequestValidationError) -> HTMLResponse:
        wrong = sorted({str(e["loc"][-1]) for e in exc.errors() if e.get("loc")})
        if any(e.get("loc", [""])[0] == "path" for e in exc.errors()):
            return page(request).render("error.html", 404, status=404, message=None)
        return page(request).render("error.html", 422, status=422,
                                    message="Not a valid value: " + ", ".join(wrong))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> HTMLResponse:
        return page(request).render("error.html", exc.status_code, status=exc.status_code,
                                    message=str(exc.detail))
