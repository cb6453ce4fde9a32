"""What accounts does, each in the caller's transaction: log in, refresh, log out, revoke, and
manage accounts. Every change other services must know of leaves an account event in the
outbox, committed with it."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

import pyotp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session, select

from contracts.access import Principal, Role
from contracts.account_events import (
    AccountCreated,
    AccountDisabled,
    AccountEvent,
    AccountRoleChanged,
    RevocationReason,
    SessionsRevoked,
)
from services.accounts import rules
from services.accounts.passwords import check_password, hash_password, weakness
from services.accounts.secret_box import SecretBox
from services.accounts.signing import TokenFacts, access_token
from services.accounts.store import Account, AccountOutbox, LoginSession

ISSUER_NAME = "Casetracker"  # what an authenticator app shows beside the code


class Refused(Exception):
    """The request is refused; `status` is the HTTP status, `reason` safe to show."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass(frozen=True)
class Desk:
    """What every operation works with."""

    key: Ed25519PrivateKey
    box: SecretBox
    limits: rules.Limits
    demo_mode: bool = False


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: str
    account: Account


def create_account(session: Session, desk: Desk, *, account: str, role: Role, team: str | None,
                   password: str, by: str, now: datetime) -> str | None:
    """Open an account; returns its authenticator's provisioning URI (shown once), or None in
    demo mode, where a second factor is optional."""
    if session.get(Account, account) is not None:
        raise Refused(409, "an account of that name exists")
    if (problem := weakness(password, account)) is not None:
        raise Refused(422, f"password {problem}")
    secret = None if desk.demo_mode else pyotp.random_base32()
    session.add(Account(
        account=account, role=role.value, team=team, password_hash=hash_password(password),
        totp_secret=desk.box.seal(secret, context=account) if secret else None, created_at=now))
    _record(session, AccountCreated(event_id=uuid4(), account=account, actor=by,
                                    occurred_at=now, data={"role": role, "team": team}))
    if secret is None:
        return None
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER_NAME)


def log_in(session: Session, desk: Desk, *, account: str, password: str, code: str | None,
           now: datetime) -> Tokens:
    found = session.get(Account, account)
    if found is not None and rules.locked(found.locked_until, now):
        raise Refused(423, "too many failed attempts; the account is locked for a while")
    if found is not None and found.locked_until is not None:  # the lock ran out: start afresh
        found.failed_logins, found.locked_until = 0, None
    if not check_password(found.password_hash if found else None, password) or found.disabled:
        if found is not None:
            found.failed_logins, found.locked_until = rules.after_failure(
                found.failed_logins, now, desk.limits)
            session.add(found)
        raise Refused(401, "wrong account, password or code")
    _second_factor(found, desk, code, now)
    found.failed_logins, found.locked_until = 0, None
    session.add(found)
    return _open_session(session, desk, found, now)


def refresh(session: Session, desk: Desk, *, refresh_token: str, now: datetime) -> Tokens:
    """A new access token for a live session; the refresh token is replaced (used once)."""
    session_id, _, _ = refresh_token.partition(".")
    login = session.get(LoginSession, session_id)
    if login is None or not hmac.compare_digest(login.refresh_hash, _digest(refresh_token)):
        raise Refused(401, "the session has ended; log in again")
    if not rules.session_alive(login.created_at, login.last_used_at, login.revoked_at, now,
                               desk.limits):
        raise Refused(401, "the session has ended; log in again")
    account = session.get(Account, login.account)
    if account is None or account.disabled:
        raise Refused(401, "the session has ended; log in again")
    return _issue(session, desk, account, login, now)


def reauthenticate(session: Session, desk: Desk, principal: Principal, *, password: str,
                   code: str | None, now: datetime) -> Tokens:
    """Enter the password again (and the code) before a sensitive action."""
    account = session.get(Account, principal.account)
    login = session.get(LoginSession, principal.session_id or "")
    if account is None or login is None or login.revoked_at is not None:
        raise Refused(401, "the session has ended; log in again")
    if not check_password(account.password_hash, password):
        raise Refused(401, "wrong password or code")
    _second_factor(account, desk, code, now)
    login.auth_time = now
    return _issue(session, desk, account, login, now)


def log_out(session: Session, principal: Principal, now: datetime) -> None:
    login = session.get(LoginSession, principal.session_id or "")
    if login is not None and login.revoked_at is None:
        login.revoked_at = now
        session.add(login)
        _record(session, SessionsRevoked(
            event_id=uuid4(), account=principal.account, actor=principal.account,
            occurred_at=now, data={"session_ids": [login.session_id],
                                   "reason": RevocationReason.LOGOUT}))


def revoke_all(session: Session, *, account: str, by: str, reason: RevocationReason,
               now: datetime) -> int:
    """End every session of the account at once (a seized phone); returns how many."""
    if session.get(Account, account) is None:
        raise Refused(404, "no such account")
    alive = list(session.exec(select(LoginSession).where(
        LoginSession.account == account, LoginSession.revoked_at.is_(None))))
    for login in alive:
        login.revoked_at = now
        session.add(login)
    _record(session, SessionsRevoked(
        event_id=uuid4(), account=account, actor=by, occurred_at=now,
        data={"revoked_before": now, "reason": reason}))
    return len(alive)


def change_role(session: Session, *, account: str, role: Role, team: str | None, by: str,
                now: datetime) -> None:
    found = session.get(Account, account)
    if found is None:
        raise Refused(404, "no such account")
    found.role, found.team = role.value, team
    session.add(found)
    _record(session, AccountRoleChanged(event_id=uuid4(), account=account, actor=by,
                                        occurred_at=now, data={"role": role, "team": team}))


def disable(session: Session, *, account: str, by: str, now: datetime) -> None:
    found = session.get(Account, account)
    if found is None:
        raise Refused(404, "no such account")
    found.disabled = True
    session.add(found)
    for login in session.exec(select(LoginSession).where(LoginSession.account == account)):
        login.revoked_at = login.revoked_at or now
        session.add(login)
    _record(session, AccountDisabled(event_id=uuid4(), account=account, actor=by,
                                     occurred_at=now, data={"revoked_before": now,
                                                            "reason": RevocationReason.DISABLED}))


def _second_factor(account: Account, desk: Desk, code: str | None, now: datetime) -> None:
    if account.totp_secret is None:
        if desk.demo_mode:
            return
        raise Refused(403, "this account has no second factor; ask an admin to set one up")
    secret = desk.box.open(account.totp_secret, context=account.account)
    step = rules.totp_step(secret, code or "", account.totp_last_step, now)
    if step is None:
        raise Refused(401, "wrong account, password or code")
    account.totp_last_step = step


def _open_session(session: Session, desk: Desk, account: Account, now: datetime) -> Tokens:
    login = LoginSession(session_id=secrets.token_urlsafe(24), account=account.account,
                         refresh_hash="", created_at=now, auth_time=now, last_used_at=now)
    return _issue(session, desk, account, login, now)


def _issue(session: Session, desk: Desk, account: Account, login: LoginSession,
           now: datetime) -> Tokens:
    refresh_token = f"{login.session_id}.{secrets.token_urlsafe(32)}"
    login.refresh_hash, login.last_used_at = _digest(refresh_token), now
    session.add(login)
    facts = TokenFacts(account.account, Role(account.role), account.team, login.session_id,
                       login.auth_time)
    token = access_token(desk.key, facts, now, desk.limits.access_token)
    return Tokens(token, refresh_token, int(desk.limits.access_token.total_seconds()),
                  login.session_id, account)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _record(session: Session, event: AccountEvent) -> None:
    session.add(AccountOutbox(event_id=event.event_id, account=event.account,
                              body=event.model_dump_json()))
