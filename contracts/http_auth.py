"""How every service finds out who a request comes from, the same way everywhere.

A request carries its access token as `Authorization: Bearer ...`, or, from the browser, in
the `ct_access` cookie (the CSRF layer guards those). The token must come from a trusted
issuer (the accounts service's public key, and optionally an OIDC provider's key set), and
its session must not have been revoked: every service follows account-events from the start
and answers 503 until it has read them up to now, so a token revoked while it was down is
never honoured.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import jwt
import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from cryptography.hazmat.primitives import serialization
from fastapi import HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contracts import topics
from contracts.access import Principal, Role
from contracts.account_events import decode_account_event
from contracts.tokens import (
    AUDIENCE,
    LEEWAY_SECONDS,
    LOCAL_ISSUER,
    InvalidToken,
    Revocations,
    TrustedIssuer,
    verify,
)

log = structlog.get_logger()

ACCESS_COOKIE = "ct_access"


class AuthSettings(BaseModel):
    """What a service trusts: mixed into each service's Settings (read from the environment)."""

    # Each setting's docstring is its description in deploy/CONFIGURATION.md.
    model_config = ConfigDict(use_attribute_docstrings=True)

    access_token_public_key_file: Path | None = Path("var/keys/access-token.pub")
    """The accounts service's public key (made on its first start beside its signing key);
    tokens it signed are accepted. Unset: only the OIDC provider's are."""
    account_events_topic: str = topics.ACCOUNT_EVENTS
    """The topic of ended sessions, role changes and disabled accounts, read from the start."""
    oidc_issuer: str | None = None
    """An OpenID Connect provider whose tokens are accepted too (its `iss`); unset: none."""
    oidc_audience: str = AUDIENCE
    """The `aud` the provider's tokens must carry."""
    oidc_jwks_url: str | None = None
    """Where the provider publishes its signing keys (JWKS); or OIDC_JWKS_FILE."""
    oidc_jwks_file: Path | None = None
    """The provider's signing keys (JWKS) from a file, e.g. a mounted secret."""
    oidc_algorithms: list[str] = Field(default=["RS256", "ES256", "EdDSA"])
    """Signature algorithms accepted from the provider (a JSON list)."""
    oidc_role_claim: str = "roles"
    """The claim holding the role: a role name, or a list of group names (see OIDC_ROLE_MAP)."""
    oidc_team_claim: str = "team"
    """The claim holding the person's team."""
    oidc_role_map: dict[str, Role] = {}
    """The provider's group names to roles, as JSON, e.g. `{"ngo-staff": "caseworker"}`."""
    revocations_wait_seconds: float = 30.0
    """After a start, tokens are refused (503) until account-events has been read; if the log
    cannot be read for this long (a broker outage), tokens are honoured until they expire and a
    warning is logged."""


def trusted_issuers(settings: AuthSettings) -> list[TrustedIssuer]:
    issuers = []
    if settings.access_token_public_key_file is not None:
        key = serialization.load_pem_public_key(settings.access_token_public_key_file.read_bytes())
        issuers.append(TrustedIssuer(LOCAL_ISSUER, AUDIENCE, key=key))
    if settings.oidc_issuer:
        issuers.append(TrustedIssuer(
            settings.oidc_issuer, settings.oidc_audience, jwks=_jwks(settings),
            algorithms=tuple(settings.oidc_algorithms), role_claim=settings.oidc_role_claim,
            team_claim=settings.oidc_team_claim, role_map=dict(settings.oidc_role_map),
            name="oidc"))
    if not issuers:
        raise RuntimeError("no token issuer is trusted: set ACCESS_TOKEN_PUBLIC_KEY_FILE or "
                           "OIDC_ISSUER")
    return issuers


class FileKeySet:
    """A provider's key set from a file (mounted from a secret, or a test's), by key id."""

    def __init__(self, path: Path) -> None:
        self._keys = jwt.PyJWKSet.from_dict(json.loads(path.read_text()))

    def get_signing_key_from_jwt(self, token: str) -> jwt.PyJWK:
        kid = jwt.get_unverified_header(token).get("kid")
        for key in self._keys.keys:
            if key.key_id == kid:
                return key
        raise jwt.PyJWKClientError("no key of that id in the key set")


def _jwks(settings: AuthSettings):
    if settings.oidc_jwks_file is not None:
        return FileKeySet(settings.oidc_jwks_file)
    if not settings.oidc_jwks_url:
        raise RuntimeError("OIDC_ISSUER is set: set OIDC_JWKS_URL or OIDC_JWKS_FILE too")
    return jwt.PyJWKClient(settings.oidc_jwks_url, cache_keys=True, lifespan=3600)


@dataclass
class Authenticator:
    """Held by each app: the trusted issuers, the revocations read so far."""

    issuers: list[TrustedIssuer]
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    revocations: Revocations = field(default_factory=Revocations)
    caught_up: bool = False
    wait_seconds: float = 30.0
    _started: float = field(default_factory=time.monotonic)
    _warned: bool = False
    # Tokens whose signature was checked: a client sends the same one for minutes, and checking
    # an Ed25519 signature costs more CPU than the rest of a command. Keyed by the whole token,
    # so only those exact bytes are trusted again; expiry and revocation are judged every time.
    _verified: dict[str, tuple[Principal, datetime, float]] = field(default_factory=dict)
    verified_cache_size: int = 4096

    def ready(self) -> bool:
        """Revocations read up to now, or waited for as long as the settings allow."""
        if self.caught_up:
            return True
        if time.monotonic() - self._started < self.wait_seconds:
            return False
        if not self._warned:
            self._warned = True
            log.warning("account_revocations_unavailable", waited_seconds=self.wait_seconds)
        return True

    async def principal(self, request: Request) -> Principal:
        token = _token_of(request)
        if token is None:
            raise _unauthenticated("no access token")
        if not self.ready():
            raise HTTPException(503, detail="starting: account revocations not read yet",
                                headers={"Retry-After": "2"})
        now = self.clock()
        known = self._verified.get(token)
        if known is None:
            try:
                # An OIDC key set may have to be fetched: not on the event loop.
                principal, issued_at = await asyncio.to_thread(verify, token, self.issuers, now)
            except InvalidToken as exc:
                raise _unauthenticated(f"access token {exc}") from None
            self._remember(token, principal, issued_at)
        else:
            principal, issued_at, expires_at = known
            if now.timestamp() > expires_at + LEEWAY_SECONDS:
                self._verified.pop(token, None)
                raise _unauthenticated("access token expired")
        if self.revocations.is_revoked(principal, issued_at):
            raise _unauthenticated("the session was ended")
        request.state.principal = principal
        return principal


    def _remember(self, token: str, principal: Principal, issued_at: datetime) -> None:
        expires_at = jwt.decode(token, options={"verify_signature": False})["exp"]
        if len(self._verified) >= self.verified_cache_size:
            del self._verified[next(iter(self._verified))]  # the oldest
        self._verified[token] = (principal, issued_at, float(expires_at))


def _token_of(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(ACCESS_COOKIE) or None


def _unauthenticated(reason: str) -> HTTPException:
    return HTTPException(401, detail=reason, headers={"WWW-Authenticate": "Bearer"})


@asynccontextmanager
async def authentication(settings: AuthSettings, bootstrap_servers: str,
                         clock: Callable[[], datetime], **client_options) -> AsyncIterator[
                             Authenticator]:
    """An app's authenticator, following account-events for as long as the app runs."""
    auth = Authenticator(trusted_issuers(settings), clock=clock,
                         wait_seconds=settings.revocations_wait_seconds)
    task = asyncio.create_task(follow_account_events(
        bootstrap_servers, settings.account_events_topic, auth, **client_options),
        name="account-events")
    task.add_done_callback(_report_stop)
    try:
        yield auth
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


def _report_stop(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        # Tokens are then refused (503) rather than checked against revocations it cannot read.
        log.error("account_events_not_followed", error=type(task.exception()).__name__)


async def follow_account_events(bootstrap_servers: str, topic: str, auth: Authenticator, *,
                                request_timeout_ms: int = 10_000, **client_options) -> None:
    """Apply every account event, from the first, for as long as the service runs; mark the
    authenticator caught up once the topic has been read to its end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False,
                                request_timeout_ms=request_timeout_ms, **client_options)
    await consumer.start()
    try:
        partitions = await _partitions(consumer, topic)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        while True:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    _apply(auth, record.value)
            if not auth.caught_up and await _at_end(consumer, partitions):
                auth.caught_up = True
                log.info("account_events_caught_up")
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    for _ in range(60):  # the topic may be moments from being created
        await consumer.topics()
        numbers = consumer.partitions_for_topic(topic)
        if numbers:
            return [TopicPartition(topic, p) for p in sorted(numbers)]
        await asyncio.sleep(0.5)
    raise RuntimeError(f"topic {topic!r} does not exist on the broker")


async def _at_end(consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> bool:
    for tp in partitions:
        highwater = consumer.highwater(tp)
        if highwater is None or await consumer.position(tp) < highwater:
            return False
    return True


def _apply(auth: Authenticator, value: bytes | None) -> None:
    try:
        auth.revocations.apply(decode_account_event(value or b""))
    except ValidationError as exc:  # not ours to dead-letter; say so and go on
        log.error("account_event_unreadable", error=type(exc).__name__)
