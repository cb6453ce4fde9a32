"""HTTP routes of casefile: read-only views of cases, their inquiries and their timelines."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict
from sqlmodel import Session

from services.casefile import store

router = APIRouter()


class CasePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    case_id: UUID
    status: str
    subject_name: str | None
    reporter_name: str | None
    reporter_relationship: str | None
    summary: str | None
    opened_at: str | None
    last_sequence: int
    inquiries_open: int
    inquiries_overdue: int
    inquiries_answered: int
    last_contact_at: str | None


class InquiryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    inquiry_id: UUID
    state: str
    recipient_name: str | None
    recipient_kind: str | None
    recipient_country: str | None
    channel: str | None
    sent_at: str | None
    due_at: str | None
    answered_at: str | None


class CaseDetail(CasePublic):
    inquiries: list[InquiryPublic]


class TimelineEntryPublic(BaseModel):
    event_id: UUID
    type: str
    sequence: int
    occurred_at: str
    recorded_at: str
    actor: str
    data: dict[str, Any]


async def get_session(request: Request) -> AsyncIterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def _case_not_found(case_id: UUID) -> HTTPException:
    return HTTPException(status_code=404, detail=f"case {case_id} not found")


@router.get("/cases", response_model=list[CasePublic])
async def list_cases(
    session: SessionDep,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[CasePublic]:
    """Case summaries, newest report first; X-Total-Count gives the number of cases."""
    rows, total = store.list_cases(session, limit=limit, offset=offset)
    response.headers["X-Total-Count"] = str(total)
    return [CasePublic.model_validate(row) for row in rows]


@router.get("/cases/{case_id}", response_model=CaseDetail)
async def get_case(case_id: UUID, session: SessionDep) -> CaseDetail:
    case = store.get_case(session, case_id)
    if case is None:
        raise _case_not_found(case_id)
    inquiries = [InquiryPublic.model_validate(i) for i in store.inquiries_of(session, case_id)]
    return CaseDetail(**CasePublic.model_validate(case).model_dump(), inquiries=inquiries)


@router.get("/cases/{case_id}/timeline", response_model=list[TimelineEntryPublic])
async def get_timeline(case_id: UUID, session: SessionDep) -> list[TimelineEntryPublic]:
    """The case's events in the order they happened in the world (partial dates vaguest first)."""
    if not store.case_exists(session, case_id):
        raise _case_not_found(case_id)
    return [
        TimelineEntryPublic(
            event_id=row.event_id, type=row.type, sequence=row.sequence,
            occurred_at=row.occurred_at, recorded_at=row.recorded_at, actor=row.actor,
            data=json.loads(row.data),
        )
        for row in store.timeline_of(session, case_id)
    ]
