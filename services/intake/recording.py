"""How every intake route records its command: who asks, the request's headers, the 201.

The routes (case_routes, casework_routes, inquiry_routes) are thin: each turns its request into
a command and a decision and hands both to `record`.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import Depends, Header, Request, Response, status
from pydantic import BaseModel, Field

from contracts.access import Principal
from services.intake import decisions
from services.intake.commands import Command
from services.intake.service import Decide, Intake, Submission


class Recorded(BaseModel):
    """The event a command recorded. `version` is the case's version after it (its ETag)."""

    case_id: UUID
    event_id: UUID
    type: str
    sequence: int
    version: int
    hash: str = Field(description="The event's link in the case's hash chain.")
    inquiry_id: UUID | None = Field(
        default=None, description="Set when the event concerns an inquiry.")


class CommandMeta(BaseModel):
    """What the request says about the command besides its body."""

    model_config = {"arbitrary_types_allowed": True}

    principal: Principal
    correlation_id: UUID
    if_match: int | None
    idempotency_key: str | None
    fingerprint: str


def parse_if_match(value: str | None) -> int | None:
    """`If-Match: "3"` (or W/"3", or 3) -> 3."""
    if value is None:
        return None
    tag = value.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise decisions.InvalidCommand(
            ("header", "If-Match"), "If-Match must be a case version, e.g. \"3\"")
    return int(tag)


async def get_principal(request: Request) -> Principal:
    return await request.app.state.authenticator.principal(request)


async def get_meta(
    request: Request,
    principal: Annotated[Principal, Depends(get_principal)],
    x_correlation_id: Annotated[UUID | None, Header()] = None,
    if_match: Annotated[str | None, Header(max_length=40)] = None,
    idempotency_key: Annotated[
        str | None,
        Header(min_length=1, max_length=255, description="Retry-safe: one event per key."),
    ] = None,
) -> CommandMeta:
    # Keyed: a body holds names, and a plain digest of a short one could be guessed.
    digest = hmac.new(request.app.state.fingerprint_key, digestmod=hashlib.sha256)
    for part in (principal.account, request.method, request.url.path, if_match or ""):
        digest.update(part.encode() + b"\0")
    digest.update(await request.body())
    return CommandMeta(
        principal=principal, correlation_id=x_correlation_id or uuid4(),
        if_match=parse_if_match(if_match),
        idempotency_key=idempotency_key, fingerprint=digest.hexdigest(),
    )


async def get_intake(request: Request) -> Intake:  # async: no thread-pool hop per request
    return request.app.state.intake


IntakeDep = Annotated[Intake, Depends(get_intake)]
MetaDep = Annotated[CommandMeta, Depends(get_meta)]


async def record(
    intake: Intake, meta: CommandMeta, response: Response, case_id: UUID | None,
    command: Command, decide: Decide, *, erasure: bool = False,
) -> Recorded:
    expected = command.expected_version
    if meta.if_match is not None and expected is not None and meta.if_match != expected:
        raise decisions.InvalidCommand(
            ("body", "expected_version"), "expected_version and If-Match disagree"
        )
    outcome = await intake.record(Submission(
        case_id=case_id, decide=decide, principal=meta.principal,
        correlation_id=meta.correlation_id,
        expected_version=expected if expected is not None else meta.if_match,
        idempotency_key=meta.idempotency_key, fingerprint=meta.fingerprint, erasure=erasure,
    ))
    event = outcome.event
    response.headers["ETag"] = f'"{event.sequence}"'
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return Recorded(
        case_id=event.case_id, event_id=event.event_id, type=event.type, sequence=event.sequence,
        version=event.sequence, hash=event.hash, inquiry_id=getattr(event.data, "inquiry_id", None),
    )


CREATED = {"status_code": status.HTTP_201_CREATED, "response_model": Recorded}
