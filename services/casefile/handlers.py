"""Apply events to the read models: one event, one transaction (dedupe + views + timeline)."""

from __future__ import annotations

import asyncio

import structlog
from sqlalchemy import Engine
from sqlmodel import Session

from contracts import read_event
from contracts.events import EventEnvelope
from services.casefile import projections, store

log = structlog.get_logger()


class EventNotApplied(RuntimeError):
    """Raised so the consumer seeks back and retries; carries no content from the message."""


def apply_event(session: Session, event: EventEnvelope) -> bool:
    """Stage one event's changes; False if it was applied before (a redelivery changes nothing)."""
    # Lock the case first so concurrent replicas serialise per case, then check for duplicates.
    case = store.get_case_for_update(session, event.case_id)
    if store.already_applied(session, event.event_id):
        return False
    inquiry_id = projections.inquiry_id_of(event)
    inquiry = store.get_inquiry_for_update(session, inquiry_id) if inquiry_id else None
    applied = projections.apply(case, inquiry, event)
    store.save(session, applied.case, applied.inquiry, applied.entry)
    return True


def apply_in_transaction(engine: Engine, events: list[EventEnvelope]) -> int:
    """Apply events in order in one transaction; how many were new."""
    with Session(engine) as session:
        applied = sum(apply_event(session, event) for event in events)
        session.commit()
    return applied


async def handle_message(
    engine: Engine, body: bytes, *, backoff: float = 1.0, **where: object
) -> None:
    """Decode and apply one message from the log; on any failure wait, then raise to retry it."""
    try:
        event = read_event(body)
    except Exception as exc:
        log.error("event_undecodable", error=type(exc).__name__, **where)
        await asyncio.sleep(backoff)
        raise EventNotApplied(f"undecodable message ({type(exc).__name__}); will retry") from None
    with structlog.contextvars.bound_contextvars(
        case_id=str(event.case_id), event_id=str(event.event_id),
        correlation_id=str(event.correlation_id),
    ):
        try:
            applied = apply_in_transaction(engine, [event])
        except Exception as exc:
            log.error("event_not_applied", type=event.type, error=type(exc).__name__, **where)
            await asyncio.sleep(backoff)
            reason = f"{event.type} not applied ({type(exc).__name__}); will retry"
            raise EventNotApplied(reason) from None
        log.info("event_applied" if applied else "event_already_applied",
                 type=event.type, sequence=event.sequence)
