"""Intake's routes about inquiries to institutions: sent, followed up, answered, withdrawn,
their response clocks stopped, started again and extended."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from services.intake import inquiry_clock_decisions, inquiry_decisions
from services.intake.commands import (
    ExtendDeadline,
    PauseInquiry,
    RecordResponse,
    ResumeInquiry,
    SendFollowUp,
    SendInquiry,
    WithdrawInquiry,
)
from services.intake.recording import CREATED, IntakeDep, MetaDep, record

router = APIRouter()


@router.post("/cases/{case_id}/inquiries", **CREATED,
             summary="Record an inquiry sent to an institution")
async def send_inquiry(
    case_id: UUID, command: SendInquiry, intake: IntakeDep, meta: MetaDep, response: Response
):
    return await record(intake, meta, response, case_id, command,
                        lambda case, ctx: inquiry_decisions.send_inquiry(case, command, ctx))


@router.post(
    "/cases/{case_id}/inquiries/{inquiry_id}/follow-ups", **CREATED,
    summary="Record a follow-up or reminder sent on an inquiry",
)
async def send_follow_up(
    case_id: UUID, inquiry_id: UUID, command: SendFollowUp, intake: IntakeDep, meta: MetaDep,
    response: Response,
):
    decide = inquiry_decisions.send_follow_up
    return await record(intake, meta, response, case_id, command,
                        lambda case, ctx: decide(case, inquiry_id, command, ctx))


@router.post(
    "/cases/{case_id}/inquiries/{inquiry_id}/responses", **CREATED,
    summary="Record an institution's official response to an inquiry",
)
async def record_response(
    case_id: UUID, inquiry_id: UUID, command: RecordResponse, intake: IntakeDep, meta: MetaDep,
    response: Response,
):
    decide = inquiry_decisions.record_response
    return await record(intake, meta, response, case_id, command,
                        lambda case, ctx: decide(case, inquiry_id, command, ctx))


@router.post(
    "/cases/{case_id}/inquiries/{inquiry_id}/withdrawal", **CREATED,
    summary="Withdraw an inquiry; its deadline stops and no answer is awaited",
)
async def withdraw_inquiry(
    case_id: UUID, inquiry_id: UUID, command: WithdrawInquiry, intake: IntakeDep, meta: MetaDep,
    response: Response,
):
    decide = inquiry_decisions.withdraw_inquiry
    return await record(intake, meta, response, case_id, command,
                        lambda case, ctx: decide(case, inquiry_id, command, ctx))


@router.post(
    "/cases/{case_id}/inquiries/{inquiry_id}/pause", **CREATED,
    summary="Stop an inquiry's response clock: its deadline waits and no alert is raised",
)
async def pause_inquiry(
    case_id: UUID, inquiry_id: UUID, command: PauseInquiry, intake: IntakeDep, meta: MetaDep,
    response: Response,
):
    decide = inquiry_clock_decisions.pause_inquiry
    return await record(intake, meta, response, case_id, command,
                        lambda case, ctx: decide(case, inquiry_id, command, ctx))


@router.post(
    "/cases/{case_id}/inquiries/{inquiry_id}/resumption", **CREATED,
    summary="Start a paused inquiry's response clock again; the paused days do not count",
)
async def resume_inquiry(
    case_id: UUID, inquiry_id: UUID, command: ResumeInquiry, intake: IntakeDep, meta: MetaDep,
    response: Response,
):
    decide = inquiry_clock_decisions.resume_inquiry
    return await record(intake, meta, response, case_id, command,
                        lambda case, ctx: decide(case, inquiry_id, command, ctx))


@router.post(
    "/cases/{case_id}/inquiries/{inquiry_id}/deadline-extension", **CREATED,
    summary="Give an institution until a later date to answer an inquiry",
)
async def extend_deadline(
    case_id: UUID, inquiry_id: UUID, command: ExtendDeadline, intake: IntakeDep, meta: MetaDep,
    response: Response,
):
    decide = inquiry_clock_decisions.extend_deadline
    return await record(intake, meta, response, case_id, command,
                        lambda case, ctx: decide(case, inquiry_id, command, ctx))
