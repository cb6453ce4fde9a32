"""What every page handler shares: who is asking, in which language, the services called on
their behalf (renewing the access token when it is about to expire), and rendering."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

import structlog
from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from services.web import session as cookies
from services.web.backends import Backends, Reply
from services.web.forms import choice_label
from services.web.i18n import LANGUAGE_COOKIE, N_, Language, choose
from services.web.session import BrowserSession, Who

log = structlog.get_logger()


class LoginRequired(Exception):
    """No session, or one the services no longer honour: off to the login page."""


class NotAllowed(Exception):
    """A service refused (403) or does not show (404) what was asked for. The page says the
    same for both, and not the service's reason: "no such case" and "not your team's" must
    look alike."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@dataclass
class Page:
    """One request's view of things; handlers get it as a dependency."""

    request: Request
    language: Language
    browser: BrowserSession
    # A refresh token is good once: calls made side by side renew the session one at a time.
    _renewing: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def who(self) -> Who | None:
        return self.browser.who

    def _(self, message: str) -> str:
        return self.language.gettext(message)

    async def call(self, service: str, method: str, path: str, **options: Any) -> Reply:
        """The service's answer to this person; a 401 means their session has ended."""
        token = await self._fresh_token()
        backends: Backends = self.request.app.state.backends
        reply = await backends.call(service, method, path, token=token,
                                    client_address=_client(self.request), **options)
        if reply.status == 401:
            raise LoginRequired
        return reply

    async def read(self, service: str, path: str, **params: Any) -> Any:
        """GET that must succeed: a 403/404 becomes the page's own answer."""
        reply = await self.call(service, "GET", path, params=params or None)
        if reply.status in (403, 404):
            raise NotAllowed(reply.status)
        if not reply.ok:
            raise HTTPException(502, detail=f"{service} answered {reply.status}")
        return reply.body

    async def _fresh_token(self) -> str:
        async with self._renewing:
            return await self._renewed_if_needed()

    async def _renewed_if_needed(self) -> str:
        browser = self.browser
        if browser.access_token is None and browser.refresh_token is None:
            raise LoginRequired
        if not browser.needs_refresh(self.request.app.state.clock()):
            return browser.access_token
        if browser.refresh_token is None:
            raise LoginRequired
        backends: Backends = self.request.app.state.backends
        reply = await backends.call("accounts", "POST", "/sessions/refresh", token=None,
                                    client_address=_client(self.request),
                                    json={"refresh_token": browser.refresh_token})
        if reply.status != 200:
            log.info("session_not_renewed", status=reply.status)
            raise LoginRequired
        # The cookies are set on whatever response this request ends with (app middleware).
        self.request.state.renewed = reply.body
        self.browser = BrowserSession(reply.body["access_token"], reply.body["refresh_token"],
                                      browser.csrf_token)
        return self.browser.access_token

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        templates: Jinja2Templates = self.request.app.state.templates
        return templates.TemplateResponse(self.request, template, status_code=status_code,
                                          context=self.context(**context))

    def context(self, **extra: Any) -> dict[str, Any]:
        app = self.request.app.state
        return {"_": self._, "label": lambda value: self._(choice_label(str(value))),
                "readable": self._readable, "due_day": due_day, "who": self.who, "language": self.language, "languages": app.languages,
                "csrf": self.browser.csrf_token or "", "here": _here(self.request), **extra}


    def _readable(self, value: Any) -> str:
        """An event's nested data as a line a person reads: parts by their translated names,
        lists item by item; no brackets, quotes or Python reprs."""
        if isinstance(value, dict):
            return "; ".join(f"{self._(choice_label(str(k)))}: {self._readable(v)}"
                             for k, v in sorted(value.items()) if v not in (None, "", [], {}))
        if isinstance(value, list):
            return " | ".join(self._readable(item) for item in value)
        if isinstance(value, bool):
            return self._("yes") if value else self._("no")
        if isinstance(value, str) and value in self.request.app.state.codes:
            return self._(choice_label(value))
        return str(value)


def due_day(due_at: str | None) -> str | None:
    """The last day to answer: a deadline is the first moment past it (2025-03-29T00:00Z is
    due on the 28th), as notify's explanations say it."""
    if not due_at:
        return None
    moment = datetime.fromisoformat(due_at.replace("Z", "+00:00"))
    return (moment - timedelta(microseconds=1)).date().isoformat()


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _here(request: Request) -> str:
    query = f"?{request.url.query}" if request.url.query else ""
    return request.url.path + query


def page(request: Request) -> Page:
    state = request.app.state
    language = choose(state.languages, chosen=request.cookies.get(LANGUAGE_COOKIE),
                      accept_language=request.headers.get("accept-language", ""),
                      default=state.settings.default_language)
    return Page(request, language, BrowserSession.of(request))


PageDep = Annotated[Page, Depends(page)]


def login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(_here(request), safe='')}", status_code=303)


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to another one."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


async def checked_form(request: Request) -> dict[str, str]:
    """A POSTed form whose hidden CSRF token repeats the session's cookie."""
    form = await request.form()
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    if not BrowserSession.of(request).csrf_matches(values.get("csrf")):
        raise HTTPException(403, detail=N_("The form is out of date or came from another "
                                           "site. Reload the page and try again."))
    return values


FormDep = Annotated[dict[str, str], Depends(checked_form)]


def renew_cookies(request: Request, response, secure: bool) -> None:
    renewed = getattr(request.state, "renewed", None)
    if renewed:
        cookies.keep(response, access_token=renewed["access_token"],
                     refresh_token=renewed["refresh_token"],
                     expires_in=int(renewed["expires_in"]), secure=secure,
                     csrf_token=request.cookies.get(cookies.CSRF))
