"""The service layer: load the case, decide, and append the event to the log and the store."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from uuid import UUID, uuid4

import structlog
from faststream.kafka import KafkaBroker
from sqlalchemy import Engine
from sqlmodel import Session

from contracts.events import EventEnvelope, encode_event
from services.intake import decisions, store

log = structlog.get_logger()

Decide = Callable[[decisions.CaseState | None, decisions.Context], EventEnvelope]


class LogUnavailable(RuntimeError):
    """The event could not be acknowledged by the log; nothing was recorded."""


class Intake:
    def __init__(
        self, *, engine: Engine, broker: KafkaBroker, topic: str, clock: Callable[[], datetime]
    ) -> None:
        self._engine = engine
        self._broker = broker
        self._topic = topic
        self._clock = clock
        # One writer per process keeps per-case sequences gap-free; SQLite serialises writers
        # anyway, and the unique (case_id, sequence) constraint guards against a second process.
        self._write_lock = asyncio.Lock()

    async def record(
        self, case_id: UUID | None, decide: Decide, *, actor: str, correlation_id: UUID
    ) -> EventEnvelope:
        """Decide on the case's current state and append the event.

        The store transaction stays open until the log has acknowledged the event (acks=all),
        so a 2xx always means "on the log", and a broker failure leaves nothing half-written.
        """
        async with self._write_lock:
            with Session(self._engine) as session:
                case = store.load_case(session, case_id) if case_id is not None else None
                ctx = decisions.Context(
                    now=self._clock(), actor=actor, correlation_id=correlation_id, new_id=uuid4
                )
                event = decide(case, ctx)
                store.append(session, event)
                await self._publish(event)
                session.commit()
        log.info("event_recorded", case_id=str(event.case_id), event_id=str(event.event_id),
                 type=event.type, sequence=event.sequence)
        return event

    async def _publish(self, event: EventEnvelope) -> None:
        try:
            await self._broker.publish(
                encode_event(event),
                self._topic,
                key=str(event.case_id).encode(),
                headers={"event-type": event.type, "schema-version": str(event.schema_version)},
                correlation_id=str(event.correlation_id),
            )
        except Exception as exc:
            log.warning("log_unavailable", case_id=str(event.case_id), error=type(exc).__name__)
            raise LogUnavailable("the event log did not acknowledge the event") from exc
