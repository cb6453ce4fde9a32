"""HTTP routes of the audit of access: who read which case, for auditors only."""

from __future__ import annotations

import json
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Response
from sqlmodel import Session

from contracts.access import may_read_access_log
from contracts.access_events import CaseRead
from contracts.partial_dates import PartialDate, earliest_instant, latest_instant, sort_key
from services.casefile.access_audit import queries
from services.casefile.access_audit.fold import CASE_LIST
from services.casefile.access_audit.public import AccessPublic
from services.casefile.access_audit.queries import AccessFilter
from services.casefile.access_audit.tables import AccessRecord
from services.casefile.api import PrincipalDep, SessionDep, require
from services.casefile.rows import instant

router = APIRouter(tags=["audit"])

What = Literal[(*(r.value for r in CaseRead), CASE_LIST)]  # type: ignore[valid-type]
Since = Annotated[PartialDate | None, Query(
    description="Reads from the start of this year, month, day or moment (UTC).")]
Until = Annotated[PartialDate | None, Query(
    description="Reads until the end of this year, month, day or moment (UTC).")]
WhatFilter = Annotated[list[What], Query(description="Only these kinds of read.")]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


@router.get("/cases/{case_id}/accesses", response_model=list[AccessPublic])
def list_case_accesses(
    case_id: UUID, session: SessionDep, principal: PrincipalDep, response: Response,
    what: WhatFilter = [],  # noqa: B006
    since: Since = None, until: Until = None, limit: Limit = 50, offset: Offset = 0,
) -> list[AccessPublic]:
    """Every read of this case's data, newest first: its view, timeline, replays, verification,
    exports, and the case lists that showed it; X-Total-Count gives how many. Auditors only."""
    require(may_read_access_log(principal), "read the audit of access")
    return _page(session, response, _filter(case_id=case_id, what=what, since=since,
                                            until=until), limit, offset)


@router.get("/accesses", response_model=list[AccessPublic])
def list_accesses(
    session: SessionDep, principal: PrincipalDep, response: Response,
    account: Annotated[str | None, Query(max_length=300, description="Reads by this account.")
                       ] = None,
    case_id: Annotated[UUID | None, Query(description="Reads that showed this case.")] = None,
    what: WhatFilter = [],  # noqa: B006
    since: Since = None, until: Until = None, limit: Limit = 50, offset: Offset = 0,
) -> list[AccessPublic]:
    """Reads of case data, newest first, by account, case, kind and time; X-Total-Count gives
    how many. Auditors only."""
    require(may_read_access_log(principal), "read the audit of access")
    return _page(session, response, _filter(case_id=case_id, account=account, what=what,
                                            since=since, until=until), limit, offset)


def _filter(*, since: str | None, until: str | None, what: list[str], **chosen) -> AccessFilter:
    if since and until and sort_key(since) > sort_key(until):
        raise HTTPException(422, [{"type": "value_error", "loc": ["query", "until"],
                                   "msg": "must not be before since"}])
    return AccessFilter(
        what=tuple(what), since=instant(earliest_instant(since)) if since else None,
        until=instant(latest_instant(until)) if until else None, **chosen)


def _page(session: Session, response: Response, access_filter: AccessFilter, limit: int,
          offset: int) -> list[AccessPublic]:
    rows, total = queries.accesses(session, access_filter, limit=limit, offset=offset)
    lists = queries.cases_shown(session, [r.event_id for r in rows if r.what == CASE_LIST])
    response.headers["X-Total-Count"] = str(total)
    return [_public(row, lists.get(row.event_id, [])) for row in rows]


def _public(row: AccessRecord, shown: list[UUID]) -> AccessPublic:
    listing = row.what == CASE_LIST
    return AccessPublic.model_validate({
        **row.model_dump(),
        "event_types": json.loads(row.event_types) if row.event_types else [],
        "filters": json.loads(row.filters) if row.filters else None,
        "case_ids": shown if listing else None,
    })
