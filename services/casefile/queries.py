"""The reads casefile's API makes: the filtered case list, a case's events, recipients."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from sqlalchemy import and_, exists, false, func, or_, true
from sqlmodel import Session, col, select

from contracts.access import CaseScope, Principal, Role
from contracts.case_events import ReportReceived
from contracts.partial_dates import earliest_instant, latest_instant
from services.casefile.projections import instant
from services.casefile.store import CaseAttention, CaseEvent, CaseSummary, Inquiry

REPORT_RECEIVED = ReportReceived.model_fields["type"].default


class CaseSort(StrEnum):
    """What the case list can be sorted by; a leading '-' sorts descending."""

    OPENED_AT = "opened_at"
    LAST_CONTACT_AT = "last_contact_at"
    DAYS_SINCE_LAST_CONTACT = "days_since_last_contact"
    INQUIRIES_OVERDUE = "inquiries_overdue"
    LAST_RECORDED_AT = "last_recorded_at"


_SORT_COLUMNS = {
    CaseSort.OPENED_AT: (CaseSummary.opened_sort, False),
    CaseSort.LAST_CONTACT_AT: (CaseSummary.last_contact_sort, False),
    # more days since the last contact means an earlier last contact
    CaseSort.DAYS_SINCE_LAST_CONTACT: (CaseSummary.last_contact_until, True),
    CaseSort.INQUIRIES_OVERDUE: (CaseSummary.inquiries_overdue, False),
    CaseSort.LAST_RECORDED_AT: (CaseSummary.last_recorded_at, False),
}


@dataclass(frozen=True)
class CaseFilter:
    """The case list's filters; None means "any". The audit of access records every one
    (access_audit.events.list_filters), so a name searched for is never one of them."""

    statuses: tuple[str, ...] = ()
    assignee: str | None = None
    unassigned: bool | None = None
    has_overdue_inquiries: bool | None = None
    min_days_since_last_contact: int | None = None
    max_days_since_last_contact: int | None = None
    opened_from: str | None = None  # partial dates: a year, a month or a day
    opened_to: str | None = None
    recipient_country: str | None = None
    needs_attention: bool | None = None
    visible_to: Principal | None = None  # only the cases this person may read


def visible_to(principal: Principal):
    """The SQL form of contracts.access.may_read_case."""
    if principal.role is Role.AUDITOR:
        return true()
    if principal.role not in (Role.CASEWORKER, Role.SUPERVISOR):
        return false()
    mine = CaseSummary.assignee == principal.account
    if principal.team is None:
        return mine
    return or_(CaseSummary.team == principal.team, mine)


def case_scope(session: Session, case_id: UUID) -> CaseScope | None:
    row = session.exec(select(CaseSummary.team, CaseSummary.assignee).where(
        CaseSummary.case_id == case_id)).first()
    return CaseScope(team=row[0], assignee=row[1]) if row is not None else None


def list_cases(
    session: Session, case_filter: CaseFilter, *, now: datetime, sort: CaseSort,
    descending: bool, limit: int, offset: int,
) -> tuple[list[CaseSummary], int]:
    conditions = list(_conditions(case_filter, now))
    statement = _in_order(select(CaseSummary).where(*conditions), sort, descending)
    total = session.exec(select(func.count()).select_from(CaseSummary).where(*conditions)).one()
    return list(session.exec(statement.limit(limit).offset(offset))), total


def cases_with_reports(
    session: Session, case_filter: CaseFilter, *, now: datetime, sort: CaseSort,
    descending: bool, chunk: int = 500,
) -> Iterator[tuple[CaseSummary, str | None]]:
    """Every case the filter keeps, in the list's order, with the stored body of its
    report_received (None while the report has not arrived), streamed: what a search on
    encrypted fields goes through. A case with more than one report comes once per report,
    on adjacent rows."""
    report = and_(CaseEvent.case_id == CaseSummary.case_id, CaseEvent.type == REPORT_RECEIVED)
    statement = _in_order(
        select(CaseSummary, CaseEvent.body).outerjoin(CaseEvent, report)
        .where(*_conditions(case_filter, now)), sort, descending,
    ).execution_options(yield_per=chunk)
    for summary, body in session.exec(statement):
        yield summary, body


def _in_order(statement, sort: CaseSort, descending: bool):
    column, reverse = _SORT_COLUMNS[sort]
    ordering = column.asc() if descending == reverse else column.desc()
    return statement.order_by(ordering.nulls_last(), CaseSummary.case_id)


def _conditions(f: CaseFilter, now: datetime) -> Iterator:
    if f.visible_to is not None:
        yield visible_to(f.visible_to)
    if f.statuses:
        yield col(CaseSummary.status).in_(f.statuses)
    if f.assignee is not None:
        yield CaseSummary.assignee == f.assignee
    if f.unassigned is not None:
        yield CaseSummary.assignee.is_(None) if f.unassigned else CaseSummary.assignee.is_not(None)
    if f.has_overdue_inquiries is not None:
        yield (CaseSummary.inquiries_overdue > 0) if f.has_overdue_inquiries else (
            CaseSummary.inquiries_overdue == 0)
    # "days since" counts from the last moment a partial date can mean: "2017" is at least
    # as long ago as 31 December 2017.
    if f.min_days_since_last_contact is not None:
        yield CaseSummary.last_contact_until <= instant(
            now - timedelta(days=f.min_days_since_last_contact))
    if f.max_days_since_last_contact is not None:
        yield CaseSummary.last_contact_until > instant(
            now - timedelta(days=f.max_days_since_last_contact + 1))
    if f.opened_from is not None:
        yield CaseSummary.opened_sort >= _sort_prefix(earliest_instant(f.opened_from))
    if f.opened_to is not None:
        after = latest_instant(f.opened_to) + timedelta(microseconds=1)
        yield CaseSummary.opened_sort < _sort_prefix(after)
    if f.recipient_country is not None:
        yield exists().where(
            Inquiry.case_id == CaseSummary.case_id, Inquiry.recipient_country == f.recipient_country
        )
    if f.needs_attention is not None:
        yield (CaseSummary.attention > 0) if f.needs_attention else (CaseSummary.attention == 0)


def _sort_prefix(moment: datetime) -> str:
    """The part of contracts.partial_dates.sort_key before the precision rank."""
    return f"{moment:%Y-%m-%dT%H:%M:%S.%f}"


def days_since(last_contact_until: str | None, now: datetime) -> int | None:
    if last_contact_until is None:
        return None
    until = datetime.strptime(last_contact_until, "%Y-%m-%dT%H:%M:%S.%fZ")
    until = until.replace(tzinfo=now.tzinfo)
    return max(0, (now - until).days)


# --- one case ---------------------------------------------------------------------------------

def case_summary(session: Session, case_id: UUID) -> CaseSummary | None:
    return session.get(CaseSummary, case_id)


def events_of(
    session: Session, case_id: UUID, *, recorded_by: str | None = None,
    types: tuple[str, ...] = (), in_stream_order: bool = False,
) -> list[CaseEvent]:
    """A case's stored events recorded by a moment (fixed-width UTC text), in timeline order
    (when they happened, vaguest date first on a tie) or in each stream's sequence order."""
    statement = select(CaseEvent).where(CaseEvent.case_id == case_id)
    if recorded_by is not None:
        statement = statement.where(CaseEvent.recorded_at <= recorded_by)
    if types:
        statement = statement.where(col(CaseEvent.type).in_(types))
    if in_stream_order:
        statement = statement.order_by(CaseEvent.stream, CaseEvent.sequence, CaseEvent.event_id)
    else:
        statement = statement.order_by(
            CaseEvent.occurred_sort, CaseEvent.recorded_at, CaseEvent.stream, CaseEvent.sequence,
            CaseEvent.event_id,
        )
    return list(session.exec(statement))


def attention(session: Session, *, case_id: UUID | None = None) -> list[CaseAttention]:
    statement = select(CaseAttention).order_by(
        CaseAttention.topic, CaseAttention.partition, CaseAttention.offset)
    if case_id is not None:
        statement = statement.where(CaseAttention.case_id == case_id)
    return list(session.exec(statement))


# --- across cases -----------------------------------------------------------------------------

def inquiries_for_recipients(
    session: Session, *, country: str | None = None, kind: str | None = None
) -> list[Inquiry]:
    statement = select(Inquiry).where(Inquiry.recipient_key.is_not(None))
    if country is not None:
        statement = statement.where(Inquiry.recipient_country == country)
    if kind is not None:
        statement = statement.where(Inquiry.recipient_kind == kind)
    return list(session.exec(statement))


def streams_in_order(session: Session, *, chunk: int = 5000) -> Iterator[CaseEvent]:
    """Every stored event, case by case and stream by stream in sequence order."""
    statement = select(CaseEvent).order_by(
        CaseEvent.case_id, CaseEvent.stream, CaseEvent.sequence, CaseEvent.event_id
    ).execution_options(yield_per=chunk)
    yield from session.exec(statement)
