"""The browser's session: the access and refresh tokens accounts gave at login, in cookies
the page's scripts cannot read (HttpOnly), sent only to this site (SameSite=Strict).

The app never decides anything on what a token says: the services check every token on every
call. It reads the token's claims (unverified) only to greet the person and to know when to
ask accounts for a fresh one.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import jwt
from fastapi import Request, Response

ACCESS, REFRESH, CSRF = "ct_web_access", "ct_web_refresh", "ct_web_csrf"
REFRESH_MARGIN_SECONDS = 30  # refresh a token this close to its expiry rather than fail


@dataclass(frozen=True)
class Who:
    account: str
    role: str
    team: str | None
    expires_at: float  # seconds since the epoch


@dataclass(frozen=True)
class BrowserSession:
    access_token: str | None
    refresh_token: str | None
    csrf_token: str | None

    @classmethod
    def of(cls, request: Request) -> BrowserSession:
        cookies = request.cookies
        return cls(cookies.get(ACCESS) or None, cookies.get(REFRESH) or None,
                   cookies.get(CSRF) or None)

    @property
    def who(self) -> Who | None:
        return claims_of(self.access_token) if self.access_token else None

    def needs_refresh(self, now: datetime) -> bool:
        who = self.who
        return who is None or who.expires_at - now.timestamp() < REFRESH_MARGIN_SECONDS

    def csrf_matches(self, sent: str | None) -> bool:
        """A form's hidden token must repeat the cookie's (a page of another site can post a
        form here, but cannot read the cookie to copy it)."""
        return bool(self.csrf_token and sent) and hmac.compare_digest(self.csrf_token, sent)


def claims_of(token: str) -> Who | None:
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
        return Who(account=str(claims["sub"]), role=str(claims.get("role", "")),
                   team=claims.get("team"), expires_at=float(claims["exp"]))
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        return None


def keep(response: Response, *, access_token: str, refresh_token: str, expires_in: int,
         secure: bool, csrf_token: str | None = None) -> None:
    """Set the session's cookies on `response`; a new login gets a new CSRF token."""
    common = {"httponly": True, "secure": secure, "samesite": "strict", "path": "/"}
    response.set_cookie(ACCESS, access_token, max_age=expires_in, **common)
    response.set_cookie(REFRESH, refresh_token, **common)
    response.set_cookie(CSRF, csrf_token or secrets.token_urlsafe(24), **common)


def forget(response: Response) -> None:
    for name in (ACCESS, REFRESH, CSRF):
        response.delete_cookie(name, path="/")
