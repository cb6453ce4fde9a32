"""Accounts against the real broker and databases: two factors, lockout, sessions that can be
ended at once, re-entering the password before sensitive actions, account events on the log."""

from __future__ import annotations

import base64
import json
import secrets
import urllib.parse
from datetime import timedelta

import httpx
import pyotp
import pytest
from sqlmodel import Session

from contracts.access import Role
from contracts.account_events import decode_account_event
from contracts.http_auth import AuthSettings, trusted_issuers
from contracts.tokens import Revocations, verify
from services.accounts import store
from services.accounts.app import create_app, limits
from services.accounts.config import Settings
from services.accounts.migrate import upgrade
from services.accounts.operations import Desk, create_account
from services.accounts.secret_box import load_secret_box
from services.accounts.signing import load_or_create_key, public_key_path
from tests.support import ServiceProcess, eventually, read_topic, running

pytestmark = pytest.mark.integration

PASSWORD = "fictional-admin-passphrase"


@pytest.fixture
def settings(kafka, topics, database_url, tmp_path) -> Settings:
    return Settings(
        database_url=database_url("accounts"), kafka_bootstrap_servers=kafka,
        account_events_topic=topics.account_events,
        signing_key_file=tmp_path / "keys" / "access-token.key",
        secrets_key=base64.b64encode(secrets.token_bytes(32)).decode(),
        login_attempts_per_minute=100,
    )


@pytest.fixture
def admin_secret(settings, clock) -> str:
    """The first admin, opened as `python -m services.accounts.bootstrap` does."""
    desk = Desk(load_or_create_key(settings.signing_key_file), load_secret_box(settings),
                limits(settings))
    engine = store.make_engine(settings.database_url)
    upgrade(engine)
    with Session(engine) as session:
        uri = create_account(session, desk, account="admin-1", role=Role.ADMIN, team=None,
                             password=PASSWORD, by="bootstrap", now=clock())
        session.commit()
    engine.dispose()
    return secret_of(uri)


def secret_of(uri: str) -> str:
    return urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)["secret"][0]


def code(secret: str, clock, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now + timedelta(seconds=30 * steps))


async def log_in(client, account, password, code_=None, expect=201):
    response = await client.post("/sessions", json={"account": account, "password": password,
                                                    "code": code_})
    assert response.status_code == expect, response.text
    return response.json()


def bearer(opened: dict) -> dict:
    return {"Authorization": f"Bearer {opened['access_token']}"}


async def test_logging_in_takes_the_password_and_a_fresh_code_and_gives_a_verifiable_token(
    settings, admin_secret, clock
):
    async with running(create_app(settings, clock=clock)) as accounts:
        no_code = await log_in(accounts, "admin-1", PASSWORD, expect=401)
        opened = await log_in(accounts, "admin-1", PASSWORD, code(admin_secret, clock))
        replayed = await log_in(accounts, "admin-1", PASSWORD, code(admin_secret, clock),
                                expect=401)
        me = (await accounts.get("/accounts/me", headers=bearer(opened))).json()

    assert no_code["detail"] == replayed["detail"] == "wrong account, password or code"
    assert (opened["account"], opened["role"], opened["team"]) == ("admin-1", "admin", None)
    trust = trusted_issuers(AuthSettings(
        access_token_public_key_file=public_key_path(settings.signing_key_file)))
    principal, _ = verify(opened["access_token"], trust, clock())
    assert (principal.account, principal.role) == ("admin-1", Role.ADMIN)
    assert me["second_factor"] is True


async def test_repeated_failures_lock_the_account_for_a_while(settings, admin_secret, clock):
    async with running(create_app(settings, clock=clock)) as accounts:
        for _ in range(settings.lockout_after_failures):
            await log_in(accounts, "admin-1", "wrong-password-guess", expect=401)
        locked = await log_in(accounts, "admin-1", PASSWORD, code(admin_secret, clock), expect=423)
        clock.advance(minutes=settings.lockout_minutes + 1)
        await log_in(accounts, "admin-1", PASSWORD, code(admin_secret, clock))
        unknown = await log_in(accounts, "nobody-here", PASSWORD, expect=401)
    assert "locked" in locked["detail"]
    assert unknown["detail"] == "wrong account, password or code"  # existence is not told


async def test_an_admin_opens_accounts_only_after_entering_the_password_again(
    settings, admin_secret, clock, kafka, topics
):
    new = {"account": "caseworker-7", "role": "caseworker", "team": "almaty",
           "password": "fictional-caseworker-passphrase"}
    async with running(create_app(settings, clock=clock)) as accounts:
        admin = await log_in(accounts, "admin-1", PASSWORD, code(admin_secret, clock))
        clock.advance(minutes=6)
        stale = await accounts.post("/accounts", json=new, headers=bearer(admin))
        again = (await accounts.post("/sessions/reauthentication", headers=bearer(admin), json={
            "password": PASSWORD, "code": code(admin_secret, clock)})).json()
        created = await accounts.post("/accounts", json=new, headers=bearer(again))
        weak = await accounts.post("/accounts", headers=bearer(again), json={
            **new, "account": "caseworker-8", "password": "short"})
        worker = await log_in(accounts, "caseworker-7", new["password"],
                              code(secret_of(created.json()["totp_provisioning_uri"]), clock))
        forbidden = await accounts.get("/accounts", headers=bearer(worker))
        events = await eventually(lambda: read_topic(kafka, topics.account_events),
                                  until=lambda e: len(e) >= 2)

    assert stale.status_code == 403 and "password again" in stale.json()["detail"]
    assert created.status_code == 201
    assert weak.status_code == 422
    assert (worker["role"], worker["team"]) == ("caseworker", "almaty")
    assert forbidden.status_code == 403
    assert [(e["type"], e["account"], e["data"]) for e in events] == [
        ("account_created", "admin-1", {"role": "admin", "team": None}),
        ("account_created", "caseworker-7", {"role": "caseworker", "team": "almaty"})]
    assert PASSWORD not in str(events) and "secret" not in str(events)


async def test_a_seized_device_ends_every_session_at_once_and_says_so_on_the_log(
    settings, admin_secret, clock, kafka, topics
):
    async with running(create_app(settings, clock=clock)) as accounts:
        phone = await log_in(accounts, "admin-1", PASSWORD, code(admin_secret, clock))
        clock.advance(seconds=31)
        laptop = await log_in(accounts, "admin-1", PASSWORD, code(admin_secret, clock))
        refreshed = await accounts.post("/sessions/refresh",
                                        json={"refresh_token": phone["refresh_token"]})
        reused = await accounts.post("/sessions/refresh",
                                     json={"refresh_token": phone["refresh_token"]})
        seized = await accounts.post("/accounts/admin-1/sessions/revocation",
                                     headers=bearer(laptop), json={"reason": "device_seized"})
        after = await accounts.get("/accounts/me", headers=bearer(laptop))
        refresh_after = await accounts.post("/sessions/refresh",
                                            json={"refresh_token": laptop["refresh_token"]})
        events = await eventually(lambda: read_topic(kafka, topics.account_events),
                                  until=lambda e: any(x["type"] == "sessions_revoked" for x in e))

    assert refreshed.status_code == 200 and reused.status_code == 401  # a refresh token works once
    assert seized.json()["sessions_revoked"] == 2
    assert after.status_code == 401 and refresh_after.status_code == 401
    [revoked] = [e for e in events if e["type"] == "sessions_revoked"]
    assert revoked["data"]["reason"] == "device_seized"
    revocations = Revocations()
    revocations.apply(decode_account_event(json.dumps(revoked)))
    trust = trusted_issuers(AuthSettings(
        access_token_public_key_file=public_key_path(settings.signing_key_file)))
    principal, issued = verify(laptop["access_token"], trust, clock())
    assert revocations.is_revoked(principal, issued)


async def test_demo_mode_opens_fictional_accounts_that_log_in_without_a_second_factor(
    settings, clock
):
    demo = settings.model_copy(update={"demo_mode": True})
    async with running(create_app(demo, clock=clock)) as accounts:
        opened = await log_in(accounts, "caseworker-demo", "demo-password-not-for-real-use")
    async with running(create_app(settings, clock=clock)):
        pass  # production mode on the same store creates nothing more
    assert (opened["role"], opened["team"]) == ("caseworker", "demo-team")


async def test_too_many_attempts_from_one_address_are_slowed_down(settings, clock):
    strict = settings.model_copy(update={"login_attempts_per_minute": 3})
    async with running(create_app(strict, clock=clock)) as accounts:
        statuses = [(await accounts.post("/sessions", json={
            "account": "nobody-here", "password": "guess"})).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


async def test_a_client_cannot_dodge_the_login_limit_by_claiming_another_address(
    settings, tmp_path
):
    """The real process, as uvicorn serves it: X-Forwarded-For from a process that is not a
    trusted proxy (by default none is) does not change whose attempts are counted."""
    env = {"DATABASE_URL": settings.database_url, "KAFKA_BOOTSTRAP_SERVERS":
           settings.kafka_bootstrap_servers, "ACCOUNT_EVENTS_TOPIC": settings.account_events_topic,
           "SIGNING_KEY_FILE": str(settings.signing_key_file),
           "SECRETS_KEY": settings.secrets_key.get_secret_value(),
           "LOGIN_ATTEMPTS_PER_MINUTE": "3"}
    accounts = ServiceProcess("accounts", tmp_path, env)
    accounts.start()
    try:
        async with httpx.AsyncClient(base_url=accounts.url) as client:
            statuses = [(await client.post("/sessions", headers={
                "X-Forwarded-For": f"203.0.113.{n}"}, json={
                "account": "nobody-here", "password": "guess"})).status_code for n in range(4)]
    finally:
        accounts.stop()
    assert statuses == [401, 401, 401, 429]
