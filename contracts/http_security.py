"""What every service's HTTP side does the same way, installed by each app builder:

- security headers on every response (a CSP that allows nothing, no framing, no sniffing, no
  referrer, nothing cached; HSTS when the request came over TLS or the service is behind it);
- CSRF for cookie sessions: a change (POST, PUT, PATCH, DELETE) that a session cookie would
  authenticate must repeat the `ct_csrf` cookie in `X-CSRF-Token` (double submit);
- CORS closed unless origins are listed;
- a request body size limit, declared or streamed (chunked);
- no exception text or trace to clients: a generic 500 with an error id that is also logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import traceback
import uuid
from collections.abc import Collection
from pathlib import PurePath
from typing import Annotated

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork, field_validator
from pydantic_settings import NoDecode
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.http_auth import ACCESS_COOKIE

log = structlog.get_logger()

REFRESH_COOKIE, CSRF_COOKIE, CSRF_HEADER = "ct_refresh", "ct_csrf", "X-CSRF-Token"
SESSION_COOKIES = (ACCESS_COOKIE, REFRESH_COOKIE)  # what a browser sends without being asked
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
SECURITY_HEADERS = (
    ("content-security-policy", API_POLICY),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-resource-policy", "same-origin"),
    ("cache-control", "no-store"),  # case data must not stay in a browser's or proxy's cache
)
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?")


class HttpSecuritySettings(BaseModel):
    """Mixed into each service's Settings (read from the environment)."""

    # Each setting's docstring is its description in deploy/CONFIGURATION.md.
    model_config = ConfigDict(use_attribute_docstrings=True)

    max_body_bytes: int = Field(default=256 * 1024, ge=1)
    """A request body larger than this is refused with 413, declared or streamed."""
    cors_allowed_origins: Annotated[list[str], NoDecode] = []
    """Origins whose pages may call this service from a browser, comma-separated, e.g.
    `https://cases.example.org`; none by default, and a wildcard is refused."""
    behind_tls: bool = False
    """Behind a proxy that terminates TLS: send HSTS on every response (it is sent anyway on a
    request that came over TLS, directly or as X-Forwarded-Proto from a trusted proxy)."""
    hsts_max_age_seconds: int = Field(default=31_536_000, ge=0)
    """The `max-age` of Strict-Transport-Security."""
    api_docs: bool = False
    """Serve /docs and /openapi.json: for development and demos. Swagger UI loads its code from
    a CDN, which a service holding data on people at risk should not do in production."""
    trusted_proxies: list[IPvAnyNetwork] = []
    """Proxies whose X-Forwarded-For and -Proto are believed (a JSON list of addresses or
    networks, e.g. `["10.0.0.5", "10.1.0.0/16"]`); from anyone else, and by default, the
    connecting address is the client's (what login limits and the audit of access go by)."""

    @field_validator("cors_allowed_origins", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("cors_allowed_origins")
    @classmethod
    def _exact_origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:  # "*" with cookies would open every session to every site
            if not _ORIGIN.fullmatch(origin):
                raise ValueError(f"not an origin (scheme://host[:port]): {origin!r}")
        return origins


def docs_urls(settings: HttpSecuritySettings) -> dict[str, str | None]:
    """FastAPI's arguments: its own docs pages off, the OpenAPI document only with API_DOCS."""
    return {"openapi_url": "/openapi.json" if settings.api_docs else None,
            "docs_url": None, "redoc_url": None}


def install(app: FastAPI, settings: HttpSecuritySettings, *,
            csrf_exempt: Collection[str] = ()) -> None:
    """Add the layers to an app built with `docs_urls(settings)`; outermost last.
    `csrf_exempt`: paths no cookie authenticates (logging in, which takes a password)."""
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(CsrfGuard, exempt=frozenset(csrf_exempt))
    if settings.cors_allowed_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_allowed_origins, allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", CSRF_HEADER, "Idempotency-Key",
                           "If-Match", "X-Correlation-Id"],
            expose_headers=["ETag", "X-Total-Count", "Idempotent-Replayed", "Retry-After"])
    hsts = f"max-age={settings.hsts_max_age_seconds}"
    app.add_middleware(SecureResponses, hsts=hsts, behind_tls=settings.behind_tls)
    if settings.api_docs:
        _add_docs(app)


class SecureResponses:
    """Security headers on every response, and a generic 500 instead of an exception."""

    def __init__(self, app: ASGIApp, *, hsts: str, behind_tls: bool) -> None:
        self.app, self.behind_tls = app, behind_tls
        # Encoded once, not on every response.
        self.headers = tuple((name.encode(), value.encode()) for name, value in SECURITY_HEADERS)
        self.tls_headers = (*self.headers, (b"strict-transport-security", hsts.encode()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tls = self.behind_tls or scope.get("scheme") == "https"
        added = self.tls_headers if tls else self.headers
        started = False

        async def secured(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", ()))
                present = {name for name, _ in headers}  # ASGI response headers are lower-case
                # A response may bring its own (/docs brings its CSP).
                message["headers"] = headers + [h for h in added if h[0] not in present]
            await send(message)

        try:
            await self.app(scope, receive, secured)
        except Exception as exc:
            error_id = uuid.uuid4().hex
            # The type and where, never the message: it may quote a value, e.g. a name in SQL.
            log.error("request_failed", error_id=error_id, error=type(exc).__name__,
                      method=scope["method"], route=_route(scope), at=_frames(exc))
            if not started:  # once a response has begun, the connection is all we can end
                await JSONResponse({
                    "detail": "internal error; it was logged under this error_id",
                    "error_id": error_id}, 500)(scope, receive, secured)


class CsrfGuard:
    """Refuse a change authenticated by a session cookie unless X-CSRF-Token repeats ct_csrf.

    A request with `Authorization: Bearer` is not authenticated by its cookies (and a page of
    another site cannot set that header), so it is not subject to the check."""

    def __init__(self, app: ASGIApp, *, exempt: frozenset[str] = frozenset()) -> None:
        self.app, self.exempt = app, exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["method"] in UNSAFE_METHODS
                and scope["path"] not in self.exempt):
            if problem := csrf_problem(Headers(scope=scope)):
                await JSONResponse({"detail": problem}, 403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def csrf_problem(headers: Headers) -> str | None:
    """Why a change may have been forged by another site, or None."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return None
    cookies = cookie_parser(headers.get("cookie", ""))
    if not any(cookies.get(name) for name in SESSION_COOKIES):
        return None
    sent, expected = headers.get(CSRF_HEADER, ""), cookies.get(CSRF_COOKIE, "")
    if not sent:
        return (f"CSRF check failed: {CSRF_HEADER} header missing; a change made with the "
                f"session cookie must send the {CSRF_COOKIE} cookie's value in it")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return f"CSRF check failed: {CSRF_HEADER} does not match the {CSRF_COOKIE} cookie"
    return None


class BodyTooLarge(HTTPException):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, detail=f"request body exceeds the limit of {max_bytes} bytes")


class BodySizeLimit:
    """A 413 for a body over `max_bytes`: declared (before it is read) or streamed, e.g. a
    chunked body without Content-Length (raised as the body is read, answered by the app's
    HTTPException handling)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            too_large = {"detail": BodyTooLarge(self.max_bytes).detail}
            await JSONResponse(too_large, 413)(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, limited, send)


def _route(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or "(no route)"  # the template: no ids, no names


def _frames(exc: BaseException, ours: int = 4) -> list[str]:
    """Where it failed: the last frames of this project's code, then the very last frame."""
    frames = traceback.extract_tb(exc.__traceback__)
    chosen = [f for f in frames if "site-packages" not in f.filename][-ours:]
    if frames and frames[-1] not in chosen:
        chosen.append(frames[-1])
    return [f"{'/'.join(PurePath(f.filename).parts[-2:])}:{f.lineno}:{f.name}" for f in chosen]


def _add_docs(app: FastAPI) -> None:
    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        page = get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} API")
        page.headers["content-security-policy"] = docs_policy(page.body.decode())
        return page


def docs_policy(page: str) -> str:
    """Swagger UI's page may load its code and styles from the CDN it names and run its own
    inline script (by hash), fetch the OpenAPI document from here, and nothing else."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in re.findall(r"<script>(.*?)</script>", page, flags=re.DOTALL))
    cdn = "https://cdn.jsdelivr.net"
    return (f"default-src 'none'; script-src {cdn} {hashes}; style-src {cdn} 'unsafe-inline'; "
            "img-src 'self' data: https://fastapi.tiangolo.com; connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")


def uvicorn_proxy_options(settings: HttpSecuritySettings) -> dict[str, object]:
    """How uvicorn treats X-Forwarded-*: only from TRUSTED_PROXIES. Its own default believes
    any process on the machine (127.0.0.1), which could then pose as any client address."""
    if not settings.trusted_proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True,
            "forwarded_allow_ips": ",".join(str(network) for network in settings.trusted_proxies)}
