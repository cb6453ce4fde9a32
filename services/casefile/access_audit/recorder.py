"""Recording a read before its data is sent: what a route calls, once it has the data and
before it returns it.

The access event is committed to casefile's access outbox (durably) and the relay is woken to
publish it. If it cannot be committed the route answers 503 instead of the data: a read that
left no record is a read that did not happen.

    record_access(request, principal, case_id, CaseRead.EXPORT)

Call it from a plain route (run in the thread pool), or from an async one through
`starlette.concurrency.run_in_threadpool`: it waits for a disk write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import structlog
from fastapi import HTTPException, Request
from sqlalchemy import Engine

from contracts.access import Principal
from contracts.access_events import (
    CaseAccessed,
    CaseRead,
    CasesListed,
    encode_access_event,
    message_key,
)
from services.casefile.access_audit import events, outbox
from services.casefile.access_audit.client_address import Network, client_address

log = structlog.get_logger()

CORRELATION_HEADER = "x-correlation-id"


@dataclass
class AccessRecorder:
    """Held by the app: where reads are kept, the clock, and whose forwarding is believed."""

    engine: Engine
    clock: Callable[[], datetime]
    trusted_proxies: Sequence[Network]
    wake: Callable[[], None]

    def context(self, request: Request, principal: Principal) -> events.ReadContext:
        peer = request.client.host if request.client else None
        return events.ReadContext(
            principal=principal,
            client=client_address(peer, request.headers.getlist("x-forwarded-for"),
                                  self.trusted_proxies),
            correlation_id=events.correlation_id_of(request.headers.get(CORRELATION_HEADER)),
            read_at=self.clock(),
        )

    def keep(self, event: CaseAccessed | CasesListed) -> None:
        """Commit the event to the outbox, or refuse the read (503) if it cannot be."""
        try:
            outbox.add(self.engine, event.event_id, message_key(event), encode_access_event(event))
        except Exception as exc:
            log.error("access_not_recorded", event_id=str(event.event_id), type=event.type,
                      correlation_id=str(event.correlation_id), error=type(exc).__name__)
            raise HTTPException(
                503, "this read could not be recorded in the audit of access, so its data is "
                "not sent; try again shortly", headers={"Retry-After": "2"}) from None
        log.info("access_recorded", event_id=str(event.event_id), type=event.type,
                 correlation_id=str(event.correlation_id),
                 case_id=str(event.case_id) if isinstance(event, CaseAccessed) else None)
        self.wake()


def _recorder(request: Request) -> AccessRecorder:
    return request.app.state.access_audit.recorder


def record_access(
    request: Request, principal: Principal, case_id: UUID, what: CaseRead, *,
    as_of: str | None = None, event_types: Iterable[str] = (),
) -> None:
    """Record that `principal` is reading case `case_id`'s data (`what`; `as_of` for an audit
    replay). Raises a 503 HTTPException if the record could not be made durable."""
    recorder = _recorder(request)
    recorder.keep(events.case_accessed(
        recorder.context(request, principal), case_id, what, as_of=as_of,
        event_types=event_types))


def record_listing(
    request: Request, principal: Principal, filters: dict, case_ids: Iterable[UUID], total: int
) -> None:
    """Record that `principal` is reading a list of cases: its filters and the cases shown."""
    recorder = _recorder(request)
    recorder.keep(events.cases_listed(
        recorder.context(request, principal), filters, case_ids, total))
