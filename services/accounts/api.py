"""HTTP routes of accounts: logging in and out, sessions, second factor, managing accounts."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field
from sqlmodel import Session, select

from contracts.access import Principal, Role, may_manage_accounts
from contracts.account_events import RevocationReason
from contracts.http_auth import ACCESS_COOKIE
from contracts.http_security import CSRF_COOKIE, REFRESH_COOKIE
from services.accounts import operations
from services.accounts.operations import Refused, Tokens
from services.accounts.store import Account, LoginSession

router = APIRouter()

REFRESH_PATH = "/sessions"  # the refresh cookie goes only where it is used
REFRESH_TOKEN = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")  # session id . secret
AccountName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,99}$")]
TeamName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,99}$")]


class LogIn(BaseModel):
    account: AccountName
    password: str = Field(min_length=1, max_length=1000)
    code: str | None = Field(default=None, max_length=10, description="The authenticator's code.")


class Reauthenticate(BaseModel):
    password: str = Field(min_length=1, max_length=1000)
    code: str | None = Field(default=None, max_length=10)


class Refresh(BaseModel):
    refresh_token: str | None = Field(default=None, max_length=200,
                                      description="Or the ct_refresh cookie.")


class NewAccount(BaseModel):
    account: AccountName
    role: Role
    team: TeamName | None = None
    password: str = Field(min_length=1, max_length=1000)


class RoleChange(BaseModel):
    role: Role
    team: TeamName | None = None


class Revocation(BaseModel):
    reason: RevocationReason = RevocationReason.DEVICE_SEIZED


class SessionOpened(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str
    session_id: str
    account: str
    role: Role
    team: str | None


class AccountPublic(BaseModel):
    account: str
    role: Role
    team: str | None
    second_factor: bool
    disabled: bool
    locked: bool


class AccountCreated(BaseModel):
    account: str
    totp_provisioning_uri: str | None = Field(
        description="For the person's authenticator app; shown once, never again.")


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


async def get_principal(request: Request) -> Principal:
    return await request.app.state.authenticator.principal(request)


SessionDep = Annotated[Session, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


@router.post("/sessions", status_code=201, response_model=SessionOpened, tags=["sessions"])
def log_in(body: LogIn, request: Request, response: Response, session: SessionDep):
    """Log in with the account's password and its authenticator's code."""
    _throttle(request)
    tokens = _run(session, lambda now: operations.log_in(
        session, request.app.state.desk, account=body.account, password=body.password,
        code=body.code, now=now), request)
    return _opened(tokens, request, response)


@router.post("/sessions/refresh", response_model=SessionOpened, tags=["sessions"])
def refresh(body: Refresh, request: Request, response: Response, session: SessionDep):
    """A fresh access token for a live session (its refresh token is replaced)."""
    token = body.refresh_token or request.cookies.get(REFRESH_COOKIE)
    if not token:
        raise HTTPException(401, detail="no refresh token")
    if not REFRESH_TOKEN.fullmatch(token):  # not one of ours: nothing to look up
        raise HTTPException(401, detail="the session has ended; log in again")
    tokens = _run(session, lambda now: operations.refresh(
        session, request.app.state.desk, refresh_token=token, now=now), request)
    return _opened(tokens, request, response)


@router.post("/sessions/reauthentication", response_model=SessionOpened, tags=["sessions"])
def reauthenticate(body: Reauthenticate, principal: PrincipalDep, request: Request,
                   response: Response, session: SessionDep):
    """Enter the password (and code) again: needed within minutes before erasing a subject,
    exporting a case or changing a role."""
    _throttle(request)
    _alive(session, principal)
    tokens = _run(session, lambda now: operations.reauthenticate(
        session, request.app.state.desk, principal, password=body.password, code=body.code,
        now=now), request)
    return _opened(tokens, request, response)


@router.delete("/sessions/current", status_code=204, tags=["sessions"])
def log_out(principal: PrincipalDep, request: Request, response: Response, session: SessionDep):
    _run(session, lambda now: operations.log_out(session, principal, now), request)
    # A cookie is only removed with the path it was set with.
    for name, path in ((ACCESS_COOKIE, "/"), (REFRESH_COOKIE, REFRESH_PATH), (CSRF_COOKIE, "/")):
        response.delete_cookie(name, path=path)
    response.status_code = 204
    return response


@router.post("/accounts/{account}/sessions/revocation", tags=["sessions"])
def revoke_all(account: AccountName, body: Revocation, principal: PrincipalDep, request: Request,
               session: SessionDep) -> dict:
    """End every session of an account at once (a seized phone): its own, or, for an admin,
    anyone's."""
    _alive(session, principal)
    if principal.account != account and not may_manage_accounts(principal):
        raise HTTPException(403, detail="only an admin ends another account's sessions")
    revoked = _run(session, lambda now: operations.revoke_all(
        session, account=account, by=principal.account, reason=body.reason, now=now), request)
    return {"account": account, "sessions_revoked": revoked}


@router.get("/accounts/me", response_model=AccountPublic, tags=["accounts"])
def who_am_i(principal: PrincipalDep, request: Request, session: SessionDep):
    _alive(session, principal)
    return _public(session.get(Account, principal.account), request)


@router.get("/accounts", response_model=list[AccountPublic], tags=["accounts"])
def list_accounts(principal: PrincipalDep, request: Request, session: SessionDep):
    _alive(session, principal)
    _admin(principal, request, recent=False)
    return [_public(a, request) for a in session.exec(select(Account).order_by(Account.account))]


@router.post("/accounts", status_code=201, response_model=AccountCreated, tags=["accounts"])
def create_account(body: NewAccount, principal: PrincipalDep, request: Request,
                   session: SessionDep):
    """Open an account (admin, password entered again within minutes)."""
    _alive(session, principal)
    _admin(principal, request, recent=True)
    uri = _run(session, lambda now: operations.create_account(
        session, request.app.state.desk, account=body.account, role=body.role, team=body.team,
        password=body.password, by=principal.account, now=now), request)
    return AccountCreated(account=body.account, totp_provisioning_uri=uri)


@router.put("/accounts/{account}/role", response_model=AccountPublic, tags=["accounts"])
def change_role(account: AccountName, body: RoleChange, principal: PrincipalDep,
                request: Request, session: SessionDep):
    """Give an account another role or team (admin, password entered again within minutes)."""
    _alive(session, principal)
    _admin(principal, request, recent=True)
    _run(session, lambda now: operations.change_role(
        session, account=account, role=body.role, team=body.team, by=principal.account,
        now=now), request)
    return _public(session.get(Account, account), request)


@router.post("/accounts/{account}/disable", response_model=AccountPublic, tags=["accounts"])
def disable(account: AccountName, principal: PrincipalDep, request: Request, session: SessionDep):
    _alive(session, principal)
    _admin(principal, request, recent=True)
    _run(session, lambda now: operations.disable(
        session, account=account, by=principal.account, now=now), request)
    return _public(session.get(Account, account), request)


@router.get("/.well-known/jwks.json", tags=["sessions"])
def jwks(request: Request) -> dict:
    """The public key access tokens are signed with, for services that fetch it."""
    return {"keys": [request.app.state.public_jwk]}


def _run(session: Session, operation, request: Request):
    """The operation in this request's transaction; committed even when it is refused, so
    a failed attempt still counts towards the lockout."""
    now = request.app.state.clock()
    try:
        result = operation(now)
    except Refused as refused:
        session.commit()
        raise HTTPException(refused.status, detail=refused.reason) from None
    session.commit()
    request.app.state.relay.wake.set()
    return result


def _throttle(request: Request) -> None:
    client = request.client.host if request.client else "unknown"
    if not request.app.state.attempts.allow(client, request.app.state.clock().timestamp()):
        raise HTTPException(429, detail="too many attempts from this address; wait a minute",
                            headers={"Retry-After": "60"})


def _alive(session: Session, principal: Principal) -> None:
    """Accounts holds the sessions themselves: it checks its own, not just the token."""
    if principal.issuer != "local":
        return
    login = session.get(LoginSession, principal.session_id or "")
    if login is None or login.revoked_at is not None:
        raise HTTPException(401, detail="the session was ended",
                            headers={"WWW-Authenticate": "Bearer"})


def _admin(principal: Principal, request: Request, *, recent: bool) -> None:
    if not may_manage_accounts(principal):
        raise HTTPException(403, detail="only an admin manages accounts")
    if recent and not principal.authenticated_recently(request.app.state.clock()):
        raise HTTPException(403, detail="enter your password again first "
                                        "(POST /sessions/reauthentication)")


def _opened(tokens: Tokens, request: Request, response: Response) -> SessionOpened:
    secure = request.app.state.settings.cookie_secure
    common = {"httponly": True, "secure": secure, "samesite": "strict"}
    response.set_cookie(ACCESS_COOKIE, tokens.access_token, max_age=tokens.expires_in, path="/",
                        **common)
    response.set_cookie(REFRESH_COOKIE, tokens.refresh_token, path=REFRESH_PATH, **common)
    # Readable by the page, sent back as X-CSRF-Token with every change (double submit).
    response.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(24), path="/", httponly=False,
                        secure=secure, samesite="strict")
    account = tokens.account
    return SessionOpened(access_token=tokens.access_token, expires_in=tokens.expires_in,
                         refresh_token=tokens.refresh_token, session_id=tokens.session_id,
                         account=account.account, role=Role(account.role), team=account.team)


def _public(account: Account | None, request: Request) -> AccountPublic:
    if account is None:
        raise HTTPException(404, detail="no such account")
    now = request.app.state.clock()
    return AccountPublic(account=account.account, role=Role(account.role), team=account.team,
                         second_factor=account.totp_secret is not None, disabled=account.disabled,
                         locked=account.locked_until is not None and now < account.locked_until)
