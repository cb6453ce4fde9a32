"""The access events a read leaves: who, when, from where, what. Pure: no request, no clock.

Only what the reader asked for and identifiers are taken; nothing of what they were shown.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from contracts.access import Principal
from contracts.access_events import (
    CaseAccessed,
    CaseAccessedData,
    CaseRead,
    CasesListed,
    CasesListedData,
    Client,
    Reader,
)

RECORDED_BY = "casefile"


@dataclass(frozen=True)
class ReadContext:
    """Everything about one request an access event records, whatever was read."""

    principal: Principal
    client: Client
    correlation_id: UUID
    read_at: datetime


def correlation_id_of(header: str | None) -> UUID:
    """The caller's X-Correlation-ID if it is a UUID (anything else could be any text);
    otherwise a new one."""
    try:
        return UUID(header) if header else uuid4()
    except ValueError:
        return uuid4()


def case_accessed(
    context: ReadContext, case_id: UUID, what: CaseRead, *, as_of: str | None = None,
    event_types: Iterable[str] = (), event_id: UUID | None = None,
) -> CaseAccessed:
    return CaseAccessed(
        **_envelope(context, event_id), case_id=case_id,
        data=CaseAccessedData(what=what, as_of=as_of, event_types=list(event_types)))


def cases_listed(
    context: ReadContext, filters: dict, case_ids: Iterable[UUID], total: int, *,
    event_id: UUID | None = None,
) -> CasesListed:
    return CasesListed(
        **_envelope(context, event_id),
        data=CasesListedData(filters=filters, case_ids=list(case_ids), total=total))


def list_filters(case_filter: object, **page: object) -> dict:
    """The filters a list was asked for (a dataclass of them, None and empty left out, and the
    person's own visibility, which is not a filter they chose), then its sort and page."""
    chosen = {
        field.name: list(value) if isinstance(value, tuple) else value
        for field in dataclasses.fields(case_filter)
        if field.name != "visible_to"
        and (value := getattr(case_filter, field.name)) is not None and value != ()
    }
    return chosen | {name: value for name, value in page.items() if value is not None}


def _envelope(context: ReadContext, event_id: UUID | None) -> dict:
    principal = context.principal
    return dict(
        event_id=event_id or uuid4(), occurred_at=context.read_at, recorded_by=RECORDED_BY,
        reader=Reader(account=principal.account, role=principal.role, team=principal.team,
                      session_id=principal.session_id, issuer=principal.issuer),
        client=context.client,
        correlation_id=context.correlation_id,
    )
