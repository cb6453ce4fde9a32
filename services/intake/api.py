"""HTTP routes of intake: thin translations from requests to commands and back."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Header, Request, Response, status
from pydantic import BaseModel

from services.intake import decisions
from services.intake.commands import RecordContactLost, RecordResponse, ReportCase, SendInquiry
from services.intake.service import Intake

router = APIRouter()


class Recorded(BaseModel):
    case_id: UUID
    event_id: UUID
    sequence: int


class InquiryRecorded(Recorded):
    inquiry_id: UUID


def get_intake(request: Request) -> Intake:
    return request.app.state.intake


class Caller(BaseModel):
    actor: str
    correlation_id: UUID


def get_caller(
    x_actor: Annotated[str | None, Header(max_length=100)] = None,
    x_correlation_id: Annotated[UUID | None, Header()] = None,
) -> Caller:
    # Until accounts exist (issue 6) the actor is whatever the client states.
    return Caller(actor=x_actor or "unauthenticated", correlation_id=x_correlation_id or uuid4())


IntakeDep = Annotated[Intake, Depends(get_intake)]
CallerDep = Annotated[Caller, Depends(get_caller)]


@router.post("/cases", status_code=status.HTTP_201_CREATED, response_model=Recorded)
async def report_case(command: ReportCase, intake: IntakeDep, caller: CallerDep, response: Response):
    event = await intake.record(
        None, lambda _, ctx: decisions.open_case(command, ctx), **caller.model_dump()
    )
    response.headers["Location"] = f"/cases/{event.case_id}"
    return Recorded(case_id=event.case_id, event_id=event.event_id, sequence=event.sequence)


@router.post("/cases/{case_id}/contact-lost", status_code=status.HTTP_201_CREATED, response_model=Recorded)
async def record_contact_lost(
    case_id: UUID, command: RecordContactLost, intake: IntakeDep, caller: CallerDep
):
    event = await intake.record(
        case_id, lambda case, ctx: decisions.record_contact_lost(case, command, ctx),
        **caller.model_dump(),
    )
    return Recorded(case_id=event.case_id, event_id=event.event_id, sequence=event.sequence)


@router.post(
    "/cases/{case_id}/inquiries", status_code=status.HTTP_201_CREATED, response_model=InquiryRecorded
)
async def send_inquiry(case_id: UUID, command: SendInquiry, intake: IntakeDep, caller: CallerDep):
    event = await intake.record(
        case_id, lambda case, ctx: decisions.send_inquiry(case, command, ctx), **caller.model_dump()
    )
    return InquiryRecorded(
        case_id=event.case_id, event_id=event.event_id, sequence=event.sequence,
        inquiry_id=event.data.inquiry_id,
    )


@router.post(
    "/cases/{case_id}/inquiries/{inquiry_id}/responses",
    status_code=status.HTTP_201_CREATED,
    response_model=Recorded,
)
async def record_response(
    case_id: UUID, inquiry_id: UUID, command: RecordResponse, intake: IntakeDep, caller: CallerDep
):
    event = await intake.record(
        case_id, lambda case, ctx: decisions.record_response(case, inquiry_id, command, ctx),
        **caller.model_dump(),
    )
    return Recorded(case_id=event.case_id, event_id=event.event_id, sequence=event.sequence)
