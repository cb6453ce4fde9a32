"""Case events in, deadlines tracked: dedupe and change commit in one transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import NoReturn

import structlog
from faststream.kafka import KafkaMessage
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session

from contracts import InquirySent, InquiryWithdrawn, OfficialResponseReceived, read_event
from contracts.events import EventEnvelope
from services.notify import store
from services.notify.deadlines import inquiry_due_at

log = structlog.get_logger()


class CaseEventNotApplied(RuntimeError):
    """Raised so the consumer rewinds and retries; carries no message content, only a reason."""


def apply(session: Session, event: EventEnvelope, *, default_response_days: int) -> str:
    """Stage the event's effect on notify's store; returns what happened, for the log."""
    if not store.claim_event(session, event.event_id):
        return "duplicate"
    if isinstance(event, InquirySent):
        store.track(session, _tracked(event, default_response_days))
        return "tracked"
    if isinstance(event, OfficialResponseReceived):
        # An alert already raised stays raised; withdrawing it is a later feature.
        known = store.mark_answered(session, event.data.inquiry_id, event.recorded_at)
        return "answered" if known else "answer_for_unknown_inquiry"
    if isinstance(event, InquiryWithdrawn):
        known = store.stop_tracking(session, event.data.inquiry_id)
        return "withdrawn" if known else "withdrawal_of_unknown_inquiry"
    return "ignored"


def _tracked(event: InquirySent, default_response_days: int) -> store.TrackedInquiry:
    return store.TrackedInquiry(
        inquiry_id=event.data.inquiry_id,
        case_id=event.case_id,
        sent_at=event.data.sent_at,
        due_at=inquiry_due_at(event.data.sent_at, event.data.due_at, default_response_days),
        sent_event_id=event.event_id,
        correlation_id=event.correlation_id,
    )


def case_event_handler(
    engine: Engine, *, default_response_days: int, retry_delay: float = 1.0
) -> Callable[[KafkaMessage], Awaitable[None]]:
    """The subscriber body. Offsets are committed by faststream only after it returns,
    i.e. after the database commit; an exception rewinds to this message and retries it."""

    async def on_case_event(msg: KafkaMessage) -> None:
        try:
            event = read_event(msg.body)
        except ValidationError as exc:
            # Field locations only: pydantic's messages may quote personal data.
            fields = [".".join(map(str, e["loc"])) for e in exc.errors(include_input=False)]
            await _fail("undecodable_case_event", exc, retry_delay, fields=fields)
        with structlog.contextvars.bound_contextvars(
            case_id=str(event.case_id), event_id=str(event.event_id),
            correlation_id=str(event.correlation_id),
        ):
            try:
                with Session(engine) as session:
                    outcome = apply(session, event, default_response_days=default_response_days)
                    session.commit()
            except Exception as exc:
                await _fail("case_event_not_applied", exc, retry_delay, type=event.type)
            log.info("case_event_applied", type=event.type, outcome=outcome)

    return on_case_event


async def _fail(what: str, exc: Exception, retry_delay: float, **details: object) -> NoReturn:
    log.error(what, error=type(exc).__name__, retry_in_seconds=retry_delay, **details)
    await asyncio.sleep(retry_delay)
    # `from None`: the original exception's text may carry message content.
    raise CaseEventNotApplied(f"{what}: {type(exc).__name__}") from None
