"""Intake's routes about the person and the family: report, contact, information, status,
reprisals, public actions, check-ins, and what the family agrees to share."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from services.intake import case_decisions
from services.intake.commands import (
    ChangeConsent,
    RecordContactLost,
    RecordContactRestored,
    RecordFamilyCheckIn,
    RecordInformation,
    RecordPublicAction,
    RecordStatusChange,
    ReportCase,
    ReportThreat,
    RestrictExport,
)
from services.intake.recording import CREATED, IntakeDep, MetaDep, record

router = APIRouter()


@router.post("/cases", **CREATED, summary="Report a missing or detained person (opens a case)")
async def report_case(command: ReportCase, intake: IntakeDep, meta: MetaDep, response: Response):
    recorded = await record(
        intake, meta, response, None, command, lambda _, ctx: case_decisions.open_case(command, ctx)
    )
    response.headers["Location"] = f"/cases/{recorded.case_id}"
    return recorded


@router.post("/cases/{case_id}/contact-lost", **CREATED,
             summary="Record that the family lost contact")
async def record_contact_lost(
    case_id: UUID, command: RecordContactLost, intake: IntakeDep, meta: MetaDep, response: Response
):
    return await record(intake, meta, response, case_id, command,
                        lambda case, ctx: case_decisions.record_contact_lost(case, command, ctx))


@router.post(
    "/cases/{case_id}/contact-restored", **CREATED,
    summary="Record that the family is in touch with the person again",
)
async def record_contact_restored(
    case_id: UUID, command: RecordContactRestored, intake: IntakeDep, meta: MetaDep,
    response: Response,
):
    decide = case_decisions.record_contact_restored
    return await record(intake, meta, response, case_id, command,
                        lambda case, ctx: decide(case, command, ctx))


@router.post(
    "/cases/{case_id}/information", **CREATED,
    summary="Record information received about the person, with its reliability",
)
async def record_information(
    case_id: UUID, command: RecordInformation, intake: IntakeDep, meta: MetaDep, response: Response
):
    return await record(intake, meta, response, case_id, command,
                        lambda case, ctx: case_decisions.record_information(case, command, ctx))


@router.post(
    "/cases/{case_id}/status", **CREATED,
    summary="Record a change in the person's situation (detained, sentenced, released...)",
)
async def record_status_change(
    case_id: UUID, command: RecordStatusChange, intake: IntakeDep, meta: MetaDep, response: Response
):
    return await record(intake, meta, response, case_id, command,
                        lambda case, ctx: case_decisions.record_status_change(case, command, ctx))


@router.post(
    "/cases/{case_id}/threats", **CREATED,
    summary="Report a threat or reprisal against the family, the reporter or the advocate",
)
async def report_threat(
    case_id: UUID, command: ReportThreat, intake: IntakeDep, meta: MetaDep, response: Response
):
    return await record(intake, meta, response, case_id, command,
                        lambda case, ctx: case_decisions.report_threat(case, command, ctx))


@router.post(
    "/cases/{case_id}/public-actions", **CREATED,
    summary="Record a public action: a protest, a media story, a UN submission",
)
async def record_public_action(
    case_id: UUID, command: RecordPublicAction, intake: IntakeDep, meta: MetaDep, response: Response
):
    return await record(intake, meta, response, case_id, command,
                        lambda case, ctx: case_decisions.record_public_action(case, command, ctx))


@router.post(
    "/cases/{case_id}/family-check-ins", **CREATED,
    summary="Record that the NGO heard from the person's family (restarts their silence clock)",
)
async def record_family_check_in(
    case_id: UUID, command: RecordFamilyCheckIn, intake: IntakeDep, meta: MetaDep,
    response: Response,
):
    decide = case_decisions.record_family_check_in
    return await record(intake, meta, response, case_id, command,
                        lambda case, ctx: decide(case, command, ctx))


@router.post(
    "/cases/{case_id}/consent", **CREATED,
    summary="Record what the family now agrees the case may be shared with",
)
async def change_consent(
    case_id: UUID, command: ChangeConsent, intake: IntakeDep, meta: MetaDep, response: Response
):
    return await record(intake, meta, response, case_id, command,
                        lambda case, ctx: case_decisions.change_consent(case, command, ctx))


@router.post(
    "/cases/{case_id}/export-restrictions", **CREATED,
    summary="Mark parts of the case never to be exported, whatever the consent",
)
async def restrict_export(
    case_id: UUID, command: RestrictExport, intake: IntakeDep, meta: MetaDep, response: Response
):
    return await record(intake, meta, response, case_id, command,
                        lambda case, ctx: case_decisions.restrict_export(case, command, ctx))
