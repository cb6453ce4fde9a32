"""Intake's routes about the NGO's own work on a case: notes, evidence, assignment, closing,
reopening, and erasing the subject."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from services.intake import casework_decisions
from services.intake.commands import (
    AddNote,
    AssignCase,
    AttachEvidence,
    CloseCase,
    EraseSubject,
    ReopenCase,
)
from services.intake.recording import CREATED, IntakeDep, MetaDep, record

router = APIRouter()


@router.post("/cases/{case_id}/notes", **CREATED, summary="Add a caseworker's note to the case")
async def add_note(
    case_id: UUID, command: AddNote, intake: IntakeDep, meta: MetaDep, response: Response
):
    return await record(intake, meta, response, case_id, command,
                        lambda case, ctx: casework_decisions.add_note(case, command, ctx))


@router.post(
    "/cases/{case_id}/evidence", **CREATED,
    summary="Record a file filed with the case: its metadata and SHA-256 only, never its content",
)
async def attach_evidence(
    case_id: UUID, command: AttachEvidence, intake: IntakeDep, meta: MetaDep, response: Response
):
    return await record(intake, meta, response, case_id, command,
                        lambda case, ctx: casework_decisions.attach_evidence(case, command, ctx))


@router.post(
    "/cases/{case_id}/assignment", **CREATED, summary="Make a caseworker responsible for the case"
)
async def assign_case(
    case_id: UUID, command: AssignCase, intake: IntakeDep, meta: MetaDep, response: Response
):
    return await record(intake, meta, response, case_id, command,
                        lambda case, ctx: casework_decisions.assign_case(case, command, ctx))


@router.post(
    "/cases/{case_id}/closure", **CREATED,
    summary="Close the case with its outcome; nothing more is recorded until it is reopened",
)
async def close_case(
    case_id: UUID, command: CloseCase, intake: IntakeDep, meta: MetaDep, response: Response
):
    return await record(intake, meta, response, case_id, command,
                        lambda case, ctx: casework_decisions.close_case(case, command, ctx))


@router.post("/cases/{case_id}/reopening", **CREATED, summary="Reopen a closed case")
async def reopen_case(
    case_id: UUID, command: ReopenCase, intake: IntakeDep, meta: MetaDep, response: Response
):
    return await record(intake, meta, response, case_id, command,
                        lambda case, ctx: casework_decisions.reopen_case(case, command, ctx))


@router.post(
    "/cases/{case_id}/erasure", **CREATED,
    summary="Erase the subject's personal data for good (admin, password entered again)",
    description="Destroys the case's key: every name, contact detail, document number, place "
    "and text of the case becomes unreadable everywhere, on the log, in every store and "
    "backup; the events, their hash chain and this record of the erasure remain. Only an "
    "admin who entered their password again in the last minutes "
    "(`POST /sessions/reauthentication` at accounts) may do it; nothing more is recorded on "
    "the case afterwards.",
)
async def erase_subject(
    case_id: UUID, command: EraseSubject, intake: IntakeDep, meta: MetaDep, response: Response
):
    return await record(intake, meta, response, case_id, command,
                        lambda case, ctx: casework_decisions.erase_subject(case, command, ctx),
                        erasure=True)
