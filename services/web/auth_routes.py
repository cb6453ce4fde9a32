"""Logging in (password and the authenticator's code), out, and ending every session."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.web import session as cookies
from services.web.i18n import LANGUAGE_COOKIE, N_
from services.web.pages import FormDep, PageDep, safe_next

router = APIRouter()
YEAR = 365 * 24 * 3600


@router.get("/login")
async def login_page(page: PageDep, next: str = "/", ended: bool = False) -> Response:
    csrf = page.browser.csrf_token or secrets.token_urlsafe(24)
    response = page.render("login.html", next=safe_next(next), error=None, ended=ended,
                           login_csrf=csrf, who=None)  # whatever old cookies say
    if page.browser.csrf_token is None:  # a login form posted from another site is refused too
        response.set_cookie(cookies.CSRF, csrf, httponly=True, samesite="strict", path="/",
                            secure=page.request.app.state.settings.cookie_secure)
    return response


@router.post("/login")
async def log_in(page: PageDep, form: FormDep) -> Response:
    target = safe_next(form.get("next"))
    body = {"account": form.get("account", "").strip(), "password": form.get("password", "")}
    if code := form.get("code", "").replace(" ", ""):
        body["code"] = code
    backends = page.request.app.state.backends
    reply = await backends.call("accounts", "POST", "/sessions", token=None, json=body,
                                client_address=page.request.client.host
                                if page.request.client else None)
    if reply.status != 201:
        error = {401: N_("Wrong account, password or code."),
                 429: N_("Too many attempts. Wait a minute and try again."),
                 422: N_("Enter your account name and password."),
                 403: N_("This account cannot log in.")}.get(reply.status,
                                                             N_("Logging in failed."))
        return page.render("login.html", 401 if reply.status in (401, 403, 422) else 429,
                           next=target, error=error, ended=False, account=body["account"],
                           login_csrf=page.browser.csrf_token, who=None)
    response = RedirectResponse(target, status_code=303)
    tokens = reply.body
    cookies.keep(response, access_token=tokens["access_token"],
                 refresh_token=tokens["refresh_token"], expires_in=int(tokens["expires_in"]),
                 secure=page.request.app.state.settings.cookie_secure)
    return response


@router.get("/account")
async def account_page(page: PageDep) -> Response:
    await page.read("accounts", "/accounts/me")  # a live session, or off to the login page
    return page.render("account.html")


@router.post("/logout")
async def log_out(page: PageDep, form: FormDep) -> Response:
    if page.browser.access_token or page.browser.refresh_token:
        try:
            await page.call("accounts", "DELETE", "/sessions/current")
        except Exception:  # noqa: BLE001 - the cookies go whatever accounts said
            pass
    response = RedirectResponse("/login?ended=true", status_code=303)
    cookies.forget(response)
    return response


@router.post("/sessions/revocation")
async def end_every_session(page: PageDep, form: FormDep) -> Response:
    """A lost or seized phone: every session of this account ends, this one too."""
    who = page.who
    if who is None:
        return RedirectResponse("/login", status_code=303)
    reply = await page.call("accounts", "POST", f"/accounts/{who.account}/sessions/revocation",
                            json={"reason": form.get("reason") or "device_seized"})
    if not reply.ok:
        return page.render("account.html", reply.status,
                           error=N_("Your sessions could not be ended. Try again."))
    response = RedirectResponse("/login?ended=true", status_code=303)
    cookies.forget(response)
    return response


@router.get("/language")
async def choose_language(request: Request, code: Annotated[str, Query(max_length=20)],
                          next: str = "/") -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if code in request.app.state.languages:
        response.set_cookie(LANGUAGE_COOKIE, code, max_age=YEAR, httponly=True,
                            samesite="lax", path="/")
    return response


