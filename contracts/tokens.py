"""Access tokens: what a service checks before it answers anyone.

The accounts service signs short-lived JWTs (EdDSA) naming the account, its role and team, its
session and when its password was last entered; an NGO may instead trust its own OpenID
Connect provider (issuer, audience and JWKS from settings), whose role and team claims map
onto the same roles. A token is refused if its signature, issuer, audience or expiry is
wrong, if it names no known role, or if its session was revoked since it was issued.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import jwt

from contracts.access import Principal, Role
from contracts.account_events import (
    AccountDisabled,
    AccountEvent,
    AccountRoleChanged,
    SessionsRevoked,
)

LOCAL_ISSUER = "casetracker-accounts"
AUDIENCE = "casetracker"
LEEWAY_SECONDS = 30  # clocks of replicas differ a little


class InvalidToken(Exception):
    """The token cannot be trusted; the message says why without quoting the token."""


@dataclass(frozen=True)
class TrustedIssuer:
    """An issuer whose tokens are accepted, and how to read roles and teams from them."""

    issuer: str
    audience: str
    key: object | None = None  # a public key (the accounts service's), or
    jwks: object | None = None  # an OIDC provider's key set (jwt.PyJWKClient or alike)
    algorithms: tuple[str, ...] = ("EdDSA",)
    role_claim: str = "role"
    team_claim: str = "team"
    role_map: dict[str, Role] = field(default_factory=dict)  # provider's names -> ours
    name: str = "local"

    def signing_key(self, token: str) -> object:
        if self.jwks is not None:
            return self.jwks.get_signing_key_from_jwt(token).key
        return self.key


def verify(
    token: str, issuers: Iterable[TrustedIssuer], now: datetime | None = None
) -> tuple[Principal, datetime]:
    """The principal a token speaks for and when it was issued; InvalidToken otherwise.

    Times are judged against `now` (the service's injected clock), not the machine's."""
    now = now or datetime.now(UTC)
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise InvalidToken("not a JWT") from None
    issuer = next((i for i in issuers if i.issuer == unverified.get("iss")), None)
    if issuer is None:
        raise InvalidToken("untrusted issuer")
    try:
        claims = jwt.decode(
            token, issuer.signing_key(token), algorithms=list(issuer.algorithms),
            audience=issuer.audience, issuer=issuer.issuer,
            options={"require": ["exp", "iat", "sub", "iss", "aud"], "verify_exp": False,
                     "verify_iat": False, "verify_nbf": False},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"invalid ({type(exc).__name__})") from None
    moment = now.timestamp()
    if not isinstance(claims["exp"], int | float) or moment > claims["exp"] + LEEWAY_SECONDS:
        raise InvalidToken("expired")
    if claims.get("nbf") is not None and moment < claims["nbf"] - LEEWAY_SECONDS:
        raise InvalidToken("not valid yet")
    role = _role(claims.get(issuer.role_claim), issuer.role_map)
    if role is None:
        raise InvalidToken("no known role")
    auth_time = claims.get("auth_time")
    principal = Principal(
        account=str(claims["sub"]), role=role, team=_team(claims.get(issuer.team_claim)),
        session_id=claims.get("sid"), issuer=issuer.name,
        auth_time=datetime.fromtimestamp(auth_time, UTC) if auth_time else None,
    )
    return principal, datetime.fromtimestamp(claims["iat"], UTC)


def _role(value: object, role_map: dict[str, Role]) -> Role | None:
    """The claim's role: one name, or the most privileged known name of a list (groups)."""
    names = value if isinstance(value, list) else [value]
    known = [role_map.get(str(n)) or _as_role(n) for n in names]
    known = [r for r in known if r is not None]
    order = [Role.ADMIN, Role.AUDITOR, Role.SUPERVISOR, Role.CASEWORKER]
    return min(known, key=order.index) if known else None


def _as_role(name: object) -> Role | None:
    try:
        return Role(str(name))
    except ValueError:
        return None


def _team(value: object) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value else None


@dataclass
class Revocations:
    """What the account-events topic has said so far, to refuse tokens it revoked."""

    revoked_before: dict[str, datetime] = field(default_factory=dict)
    ended_sessions: set[str] = field(default_factory=set)

    def apply(self, event: AccountEvent) -> None:
        if isinstance(event, SessionsRevoked | AccountDisabled):
            self.ended_sessions.update(event.data.session_ids)
            if event.data.revoked_before is not None or isinstance(event, AccountDisabled):
                self._revoke(event.account, event.data.revoked_before or event.occurred_at)
        elif isinstance(event, AccountRoleChanged):
            self._revoke(event.account, event.occurred_at)  # the old role is in older tokens

    def is_revoked(self, principal: Principal, issued_at: datetime) -> bool:
        if principal.session_id is not None and principal.session_id in self.ended_sessions:
            return True
        before = self.revoked_before.get(principal.account)
        return before is not None and issued_at <= before

    def _revoke(self, account: str, before: datetime) -> None:
        current = self.revoked_before.get(account)
        if current is None or before > current:
            self.revoked_before[account] = before
