"""The authenticator checks a token's signature once, then trusts those exact bytes until the
token expires; revocations apply at once to tokens it already checked. Pure, no broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import HTTPException, Request

from contracts import tokens
from contracts.access import Role
from contracts.account_events import SessionsRevoked, SessionsRevokedData
from contracts.http_auth import Authenticator
from contracts.tokens import AUDIENCE, LOCAL_ISSUER, TrustedIssuer
from services.accounts.signing import TokenFacts, access_token

KEY = Ed25519PrivateKey.generate()
START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def request_with(token: str) -> Request:
    return Request({"type": "http", "headers": [(b"authorization", f"Bearer {token}".encode())]})


def token(session: str = "laptop", key=KEY) -> str:
    facts = TokenFacts("caseworker-7", Role.CASEWORKER, "almaty", session, auth_time=START)
    return access_token(key, facts, START, timedelta(minutes=10))


@pytest.fixture
def now() -> list[datetime]:
    return [START]


@pytest.fixture
def auth(now) -> Authenticator:
    trusted = [TrustedIssuer(LOCAL_ISSUER, AUDIENCE, key=KEY.public_key())]
    return Authenticator(trusted, clock=lambda: now[0], caught_up=True)


async def test_a_token_is_verified_once_and_then_trusted_until_it_expires(auth, now, monkeypatch):
    checked = []
    real_verify = tokens.verify
    monkeypatch.setattr("contracts.http_auth.verify",
                        lambda *a: checked.append(1) or real_verify(*a))
    signed = token()
    for minutes in (0, 3, 9):
        now[0] = START + timedelta(minutes=minutes)
        assert (await auth.principal(request_with(signed))).account == "caseworker-7"
    assert checked == [1]
    now[0] = START + timedelta(minutes=11)
    with pytest.raises(HTTPException) as expired:
        await auth.principal(request_with(signed))
    assert expired.value.status_code == 401 and "expired" in expired.value.detail


async def test_a_revoked_session_is_refused_even_when_its_token_was_checked_before(auth, now):
    signed = token()
    await auth.principal(request_with(signed))
    auth.revocations.apply(SessionsRevoked(
        event_id=uuid4(), account="caseworker-7", actor="caseworker-7",
        occurred_at=START + timedelta(minutes=1),
        data=SessionsRevokedData(session_ids=["laptop"], reason="device_seized")))
    with pytest.raises(HTTPException) as ended:
        await auth.principal(request_with(signed))
    assert ended.value.status_code == 401


async def test_only_the_exact_token_checked_is_trusted_again(auth):
    signed = token()
    await auth.principal(request_with(signed))
    forged = token(key=Ed25519PrivateKey.generate())  # same claims, someone else's key
    header, body, _ = signed.split(".")
    with pytest.raises(HTTPException):
        await auth.principal(request_with(forged))
    with pytest.raises(HTTPException):
        await auth.principal(request_with(f"{header}.{body}.{forged.split('.')[2]}"))


async def test_the_cache_stays_bounded(auth):
    auth.verified_cache_size = 3
    for n in range(5):
        await auth.principal(request_with(token(session=f"s{n}")))
    assert len(auth._verified) == 3
