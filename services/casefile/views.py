"""The views the API serves, each built from the store with the pure modules; no HTTP here."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from itertools import groupby
from uuid import UUID

from sqlmodel import Session

from contracts.events import decode_event, read_event
from contracts.keystore import KeyStore
from contracts.partial_dates import latest_instant, precision
from services.casefile import queries, recipients, store
from services.casefile.case_file import CaseFile, fold_case
from services.casefile.chain_audit import StreamAudit, audit_stream
from services.casefile.name_search import name_matches, subject_names
from services.casefile.personal import plain_texts
from services.casefile.projections import instant
from services.casefile.public import (
    AttentionPublic,
    CaseDetail,
    CaseListItem,
    ErasurePublic,
    InquiryPublic,
    RecipientPublic,
    StoreVerification,
    TimelineEntryPublic,
)
from services.casefile.store import CaseSummary


def recorded_by(as_of: str | None) -> str | None:
    """'What did we know on 1 March 2020?': everything recorded until that day ended (UTC)."""
    return instant(latest_instant(as_of)) if as_of else None


def case_list(rows: list[CaseSummary], now: datetime) -> list[CaseListItem]:
    return [
        CaseListItem.model_validate({
            **row.model_dump(),
            "days_since_last_contact": queries.days_since(row.last_contact_until, now),
            "needs_attention": row.attention > 0,
        })
        for row in rows
    ]


def cases_named(
    session: Session, keys: KeyStore, case_filter: queries.CaseFilter, name: str, *,
    now: datetime, sort: queries.CaseSort, descending: bool, limit: int, offset: int,
) -> tuple[list[CaseSummary], int]:
    """The page of the filtered cases whose subject has a name containing `name`, and how many
    match. Names are encrypted, so they are decrypted here, case by case, after the other
    filters (visibility among them) have kept only cases the reader may read; an erased
    subject, or one whose names cannot be read, never matches."""
    page: list[CaseSummary] = []
    total = 0
    rows = queries.cases_with_reports(session, case_filter, now=now, sort=sort,
                                      descending=descending)
    for case_id, same_case in groupby(rows, key=lambda row: row[0].case_id):
        found = list(same_case)
        summary = found[0][0]
        if summary.erased_at is not None:
            continue
        recorded = [name for _, body in found if body is not None
                    for name in subject_names(read_event(body))]
        if not recorded or not name_matches(name, plain_texts(keys, case_id, recorded)):
            continue
        if offset <= total < offset + limit:
            page.append(summary)
        total += 1
    return page, total


def case_detail(session: Session, case_id: UUID, *, as_of: str | None) -> CaseDetail | None:
    """The case folded from its events recorded by `as_of` (all of them if None).

    Live, a case known only from messages that could not be applied is shown with them,
    rather than as missing: the list says it needs attention, and this is where to look.
    """
    stored = queries.events_of(session, case_id, recorded_by=recorded_by(as_of),
                               in_stream_order=True)
    folded = fold_case((row.stream, read_event(row.body)) for row in stored)
    if as_of:
        return _detail(folded, as_of=recorded_by(as_of), attention=[]) if folded else None
    if folded is None:
        summary = queries.case_summary(session, case_id)
        if summary is None:
            return None
        folded = CaseFile(case=store.view_of_case(summary), inquiries=[])
    return _detail(folded, as_of=None, attention=queries.attention(session, case_id=case_id))


def _detail(folded: CaseFile, *, as_of: str | None, attention: list) -> CaseDetail:
    case = folded.case
    return CaseDetail(
        case_id=case.case_id, as_of=as_of, status=case.status,
        subject_status=case.subject_status, subject=folded.subject, reporter=folded.reporter,
        summary=folded.report_summary, consent=folded.consent, assignee=case.assignee,
        opened_at=case.opened_at, last_contact_at=case.last_contact_at,
        contact_state=case.contact_state, closed_outcome=folded.closed_outcome,
        erasure=ErasurePublic.model_validate(folded.erasure) if folded.erasure else None,
        never_export=folded.never_export,
        last_sequence=case.last_sequence, last_recorded_at=case.last_recorded_at,
        events=folded.events, inquiries_open=case.inquiries_open,
        inquiries_overdue=case.inquiries_overdue, inquiries_answered=case.inquiries_answered,
        inquiries=[InquiryPublic.model_validate(i) for i in folded.inquiries],
        latest_information=folded.latest_information,
        information_received=folded.information_received,
        threats=folded.threats,
        attention=[AttentionPublic.model_validate(a) for a in attention],
    )


def timeline(
    session: Session, case_id: UUID, *, as_of: str | None, types: tuple[str, ...]
) -> list[TimelineEntryPublic]:
    """The case's events in the order they happened in the world (vaguest date first)."""
    return [
        TimelineEntryPublic(
            event_id=row.event_id, type=row.type, stream=row.stream, sequence=row.sequence,
            schema_version=row.schema_version, occurred_at=row.occurred_at,
            occurred_precision=precision(row.occurred_at), recorded_at=row.recorded_at,
            actor=row.actor, data=_current_data(row.body),
        )
        for row in queries.events_of(session, case_id, recorded_by=recorded_by(as_of), types=types)
    ]


def _current_data(body: str) -> dict:
    return json.loads(read_event(body).model_dump_json(include={"data"})).get("data", {})


def recipient_stats(
    session: Session, *, country: str | None, kind: str | None
) -> list[RecipientPublic]:
    inquiries = queries.inquiries_for_recipients(session, country=country, kind=kind)
    return [RecipientPublic.model_validate(s) for s in recipients.summarise(inquiries)]


def verify_case(session: Session, case_id: UUID) -> list[StreamAudit]:
    return list(_audits(queries.events_of(session, case_id, in_stream_order=True)))


def verify_store(session: Session) -> StoreVerification:
    """Every case's every stream, as casefile stored the events it applied."""
    cases: set[UUID] = set()
    events = 0
    broken = []
    for audit in stream_audits(session):
        cases.add(audit.case_id)
        events += audit.events
        if audit.broken is not None:
            broken.append(audit.broken)
    return StoreVerification(intact=not broken, cases=len(cases), events=events, broken=broken)


def stream_audits(session: Session) -> Iterator[StreamAudit]:
    """Every stream of every case casefile holds."""
    return _audits(queries.streams_in_order(session))


def _audits(rows) -> Iterator[StreamAudit]:
    """Rows ordered by case, then stream: one audit per (case, stream)."""
    for (case_id, stream), group in groupby(rows, key=lambda r: (r.case_id, r.stream)):
        yield audit_stream(case_id, stream, (decode_event(r.body) for r in group))

