"""HTTP routes of casefile: cases, timelines, recipients, and the audit of what it holds.

Routes are plain functions (run in the thread pool): they read the store and fold events.
Every route that returns case data records the read (access_audit.recorder) before returning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from sqlmodel import Session

from contracts.access import (
    CaseScope,
    Principal,
    Role,
    may_read_audit_trail,
    may_read_case,
    may_record_on_case,
)
from contracts.access_events import CaseRead
from contracts.casework_events import AccountId
from contracts.events import EVENT_TYPES, ShareDestination, SubjectStatus
from contracts.keystore import KeyStore
from contracts.partial_dates import PartialDate, sort_key
from contracts.values import CountryCode, RecipientKind
from services.casefile import export, queries, views
from services.casefile.access_audit.events import list_filters
from services.casefile.access_audit.recorder import record_access, record_listing
from services.casefile.name_search import MAX_QUERY_LENGTH, name_query_problem
from services.casefile.personal import readable, readable_each, shown
from services.casefile.projections import AWAITING_REPORT, CLOSED, OPEN
from services.casefile.public import (
    AttentionPublic,
    CaseDetail,
    CaseExport,
    CaseListItem,
    CaseVerification,
    RecipientPublic,
    StoreVerification,
    StreamAuditPublic,
    TimelineEntryPublic,
)
from services.casefile.queries import CaseFilter, CaseSort

router = APIRouter()

# Bounds that keep a query computable: a date that many days back still exists (some 270
# years), and an offset fits the databases' 64-bit integers with room to spare.
MAX_DAYS, MAX_OFFSET = 100_000, 1_000_000_000

CaseStatus = Literal[(AWAITING_REPORT, OPEN, CLOSED, *(s.value for s in SubjectStatus))]  # type: ignore[valid-type]
EventTypeName = Literal[tuple(t.model_fields["type"].default for t in EVENT_TYPES)]  # type: ignore[valid-type]
SortParameter = Literal[tuple(f"{sign}{s.value}" for s in CaseSort for sign in ("", "-"))]  # type: ignore[valid-type]

AsOf = Annotated[PartialDate | None, Query(
    description="Audit replay: the case as the system knew it when this date or moment ended "
    "(events recorded up to then), e.g. 2020-03-01 or 2020-03-01T12:00:00Z.",
)]


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


def get_clock(request: Request) -> Callable[[], datetime]:
    return request.app.state.clock


def get_keys(request: Request) -> KeyStore:
    return request.app.state.keys


async def get_principal(request: Request) -> Principal:
    return await request.app.state.authenticator.principal(request)


SessionDep = Annotated[Session, Depends(get_session)]
ClockDep = Annotated[Callable[[], datetime], Depends(get_clock)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
KeysDep = Annotated[KeyStore, Depends(get_keys)]


def require_case(session: Session, principal: Principal, case_id: UUID) -> CaseScope:
    """404 for a case the person may not read, exactly as for one that does not exist: whether
    another team works on someone is itself need-to-know."""
    scope = queries.case_scope(session, case_id)
    if scope is None or not may_read_case(principal, scope):
        raise _not_found(case_id)
    return scope


def _erased(session: Session, case_id: UUID) -> bool:
    """Erased now, whatever date a view is as of: the key is gone for every date."""
    summary = queries.case_summary(session, case_id)
    return summary is not None and summary.erased_at is not None


def require(allowed: bool, what: str) -> None:
    if not allowed:
        raise HTTPException(403, f"your role may not {what}")


def _not_found(case_id: UUID, as_of: str | None = None) -> HTTPException:
    if as_of:
        return HTTPException(404, f"case {case_id}: nothing was recorded about it by {as_of}")
    return HTTPException(404, f"case {case_id} not found")


def _invalid(field: str, message: str) -> HTTPException:
    """A 422 in FastAPI's own shape, naming the query parameter."""
    return HTTPException(422, [{"type": "value_error", "loc": ["query", field], "msg": message}])


@router.get("/cases", response_model=list[CaseListItem], tags=["cases"])
def list_cases(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    keys: KeysDep,
    response: Response,
    status: Annotated[list[CaseStatus], Query(description="Any of these statuses.")] = [],  # noqa: B006
    assignee: Annotated[AccountId | None, Query(description="An account.")] = None,
    unassigned: bool | None = None,
    has_overdue_inquiries: bool | None = None,
    min_days_since_last_contact: Annotated[int | None, Query(ge=0, le=MAX_DAYS)] = None,
    max_days_since_last_contact: Annotated[int | None, Query(ge=0, le=MAX_DAYS)] = None,
    opened_from: Annotated[PartialDate | None, Query(description="A year, month or day.")] = None,
    opened_to: Annotated[PartialDate | None, Query(description="Inclusive.")] = None,
    recipient_country: Annotated[CountryCode | None, Query(
        description="Cases with at least one inquiry to an institution of this country.")] = None,
    needs_attention: bool | None = None,
    sort: Annotated[SortParameter, Query(
        description="A leading '-' sorts descending.")] = "-opened_at",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    name: Annotated[str | None, Query(
        description="Cases whose subject has a name (in any script, a transliteration or an "
        "alias) containing this, ignoring case, accents and repeated spaces; 1 to "
        f"{MAX_QUERY_LENGTH} characters. Personal data: neither logged nor kept in the audit "
        "of access, which records only that a name was searched for.")] = None,
) -> list[CaseListItem]:
    """The cases you may read, filtered and sorted; X-Total-Count gives how many match."""
    require(principal.role is not Role.ADMIN, "read cases")
    # checked here rather than by Query(max_length=...): FastAPI's 422 would quote the name
    if name is not None and (problem := name_query_problem(name)):
        raise _invalid("name", problem)
    if None not in (min_days_since_last_contact, max_days_since_last_contact) and (
        min_days_since_last_contact > max_days_since_last_contact
    ):
        raise _invalid("max_days_since_last_contact", "must not be less than the minimum")
    if opened_from and opened_to and sort_key(opened_from) > sort_key(opened_to):
        raise _invalid("opened_to", "must not be before opened_from")
    case_filter = CaseFilter(
        statuses=tuple(status), assignee=assignee, unassigned=unassigned,
        has_overdue_inquiries=has_overdue_inquiries,
        min_days_since_last_contact=min_days_since_last_contact,
        max_days_since_last_contact=max_days_since_last_contact,
        opened_from=opened_from, opened_to=opened_to, recipient_country=recipient_country,
        needs_attention=needs_attention, visible_to=principal,
    )
    now = clock()
    order = dict(sort=CaseSort(sort.lstrip("-")), descending=sort.startswith("-"))
    if name is None:
        rows, total = queries.list_cases(session, case_filter, now=now, **order,
                                         limit=limit, offset=offset)
    else:
        rows, total = views.cases_named(session, keys, case_filter, name, now=now, **order,
                                        limit=limit, offset=offset)
    response.headers["X-Total-Count"] = str(total)
    listed = views.case_list(rows, now)
    # that a name was searched for, never the name: the audit holds nothing of a case
    record_listing(request, principal,
                   list_filters(case_filter, name_search=True if name is not None else None,
                                sort=sort, limit=limit, offset=offset),
                   [row.case_id for row in listed], total)
    return readable_each(listed, keys, lambda item: item.case_id,
                         lambda item: item.erased_at is not None)


@router.get("/cases/{case_id}", response_model=CaseDetail, tags=["cases"])
def get_case(
    case_id: UUID, request: Request, session: SessionDep, principal: PrincipalDep,
    keys: KeysDep, as_of: AsOf = None,
) -> CaseDetail:
    """The whole case: people, consent, status, inquiries, latest information, threats."""
    require_case(session, principal, case_id)
    detail = views.case_detail(session, case_id, as_of=as_of)
    if detail is None:
        raise _not_found(case_id, as_of)
    record_access(request, principal, case_id, CaseRead.CASE, as_of=as_of)
    return readable(detail, shown(keys, case_id, erased=_erased(session, case_id)))


@router.get("/cases/{case_id}/timeline", response_model=list[TimelineEntryPublic], tags=["cases"])
def get_timeline(
    case_id: UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    keys: KeysDep,
    as_of: AsOf = None,
    types: Annotated[list[EventTypeName], Query(
        alias="type", description="Only events of these types.")] = [],  # noqa: B006
) -> list[TimelineEntryPublic]:
    """The case's events in the order they happened in the world (partial dates vaguest first)."""
    require_case(session, principal, case_id)
    entries = views.timeline(session, case_id, as_of=as_of, types=tuple(types))
    if as_of and not entries and not types:
        raise _not_found(case_id, as_of)
    record_access(request, principal, case_id, CaseRead.TIMELINE, as_of=as_of, event_types=types)
    show = shown(keys, case_id, erased=_erased(session, case_id))
    return [readable(entry, show) for entry in entries]


@router.get("/cases/{case_id}/export", response_model=CaseExport, tags=["cases"])
def export_case(
    case_id: UUID, request: Request, session: SessionDep, principal: PrincipalDep,
    keys: KeysDep, clock: ClockDep,
    destination: Annotated[ShareDestination | None, Query(
        description="Who the export is for: un_bodies, media or partner_ngos.")] = None,
) -> CaseExport:
    """The case as it may be shared with one audience: only if the family agreed to it, without
    the parts marked never to be exported, never the reporter's contact details. For the
    caseworkers of the case, who entered their password again within minutes."""
    scope = require_case(session, principal, case_id)  # before anything else is said
    if destination is None:
        raise _invalid("destination", "say who the export is for: un_bodies, media or "
                                      "partner_ngos")
    require(may_record_on_case(principal, scope), "export cases")
    now = clock()
    if not principal.authenticated_recently(now):
        raise HTTPException(403, "enter your password again first "
                                 "(POST /sessions/reauthentication)")
    if _erased(session, case_id):
        raise HTTPException(409, {"rule": "subject_erased",
                                  "msg": "the subject was erased; there is nothing to export"})
    detail = views.case_detail(session, case_id, as_of=None)
    if detail is None:
        raise _not_found(case_id)
    try:
        document = export.export_case(readable(detail, shown(keys, case_id)), destination, now)
        # recorded before anything leaves: an export is the read that matters most
        record_access(request, principal, case_id, CaseRead.EXPORT)
    except export.NotConsented:
        raise HTTPException(409, {
            "rule": "consent_missing",
            "msg": f"the family has not agreed to share the case with "
                   f"{destination.value.replace('_', ' ')} "
                   f"(consent.share_with_{destination.value})"}) from None
    return document  # never cached: contracts.http_security marks every response no-store


@router.get("/recipients", response_model=list[RecipientPublic], tags=["recipients"])
def list_recipients(
    session: SessionDep,
    principal: PrincipalDep,
    country: CountryCode | None = None,
    kind: RecipientKind | None = None,
) -> list[RecipientPublic]:
    """Per institution: inquiries sent and answered, median days to answer, share never answered
    (counts over every case, which name no one)."""
    require(principal.role is not Role.ADMIN, "read case statistics")
    return views.recipient_stats(session, country=country, kind=kind.value if kind else None)


@router.get("/cases/{case_id}/verification", response_model=CaseVerification, tags=["audit"])
def verify_case(
    case_id: UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> CaseVerification:
    """Check the hash chain of each of the case's streams as casefile holds them: the first
    event whose hash or prev_hash does not match, or a gap in the sequence."""
    require_case(session, principal, case_id)
    audits = views.verify_case(session, case_id)
    if not audits:
        raise _not_found(case_id)
    streams = [StreamAuditPublic.model_validate(a) for a in audits]
    record_access(request, principal, case_id, CaseRead.VERIFICATION)
    return CaseVerification(case_id=case_id, intact=all(s.intact for s in streams), streams=streams)


@router.get("/verification", response_model=StoreVerification, tags=["audit"])
def verify_everything(session: SessionDep, principal: PrincipalDep) -> StoreVerification:
    """The same check over every case casefile holds (`python -m services.casefile.verify`
    checks the log itself); for auditors and supervisors."""
    require(may_read_audit_trail(principal), "verify the whole store")
    return views.verify_store(session)


@router.get("/attention", response_model=list[AttentionPublic], tags=["audit"])
def list_attention(
    session: SessionDep, principal: PrincipalDep, case_id: UUID | None = None
) -> list[AttentionPublic]:
    """Messages that could not be decoded or applied, and went to the dead-letter topic; for
    auditors and supervisors."""
    require(may_read_audit_trail(principal), "read the dead letters")
    return [AttentionPublic.model_validate(a) for a in queries.attention(session, case_id=case_id)]
