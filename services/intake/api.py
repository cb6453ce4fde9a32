"""HTTP routes of intake: thin translations from requests to commands and back."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Header, Request, Response, status
from pydantic import BaseModel, Field

from contracts.access import Principal
from services.intake import (
    case_decisions,
    casework_decisions,
    decisions,
    inquiry_clock_decisions,
    inquiry_decisions,
)
from services.intake.commands import (
    AddNote,
    AssignCase,
    AttachEvidence,
    ChangeConsent,
    CloseCase,
    Command,
    EraseSubject,
    ExtendDeadline,
    PauseInquiry,
    RecordContactLost,
    RecordContactRestored,
    RecordFamilyCheckIn,
    RecordInformation,
    RecordPublicAction,
    RecordResponse,
    RecordStatusChange,
    ReopenCase,
    ReportCase,
    ReportThreat,
    RestrictExport,
    ResumeInquiry,
    SendFollowUp,
    SendInquiry,
    WithdrawInquiry,
)
from services.intake.service import Decide, Intake, Submission

router = APIRouter()


class Recorded(BaseModel):
    """The event a command recorded. `version` is the case's version after it (its ETag)."""

    case_id: UUID
    event_id: UUID
    type: str
    sequence: int
    version: int
    hash: str = Field(description="The event's link in the case's hash chain.")
    inquiry_id: UUID | None = Field(default=None, description="Set when the event concerns an inquiry.")


class CommandMeta(BaseModel):
    """What the request says about the command besides its body."""

    model_config = {"arbitrary_types_allowed": True}

    principal: Principal
    correlation_id: UUID
    if_match: int | None
    idempotency_key: str | None
    fingerprint: str


def parse_if_match(value: str | None) -> int | None:
    """`If-Match: "3"` (or W/"3", or 3) -> 3."""
    if value is None:
        return None
    tag = value.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise decisions.InvalidCommand(("header", "If-Match"), "If-Match must be a case version, e.g. \"3\"")
    return int(tag)


async def get_principal(request: Request) -> Principal:
    return await request.app.state.authenticator.principal(request)


async def get_meta(
    request: Request,
    principal: Annotated[Principal, Depends(get_principal)],
    x_correlation_id: Annotated[UUID | None, Header()] = None,
    if_match: Annotated[str | None, Header(max_length=40)] = None,
    idempotency_key: Annotated[
        str | None, Header(min_length=1, max_length=255, description="Retry-safe: one event per key.")
    ] = None,
) -> CommandMeta:
    # Keyed: a body holds names, and a plain digest of a short one could be guessed.
    digest = hmac.new(request.app.state.fingerprint_key, digestmod=hashlib.sha256)
    for part in (principal.account, request.method, request.url.path, if_match or ""):
        digest.update(part.encode() + b"\0")
    digest.update(await request.body())
    return CommandMeta(
        principal=principal, correlation_id=x_correlation_id or uuid4(), if_match=parse_if_match(if_match),
        idempotency_key=idempotency_key, fingerprint=digest.hexdigest(),
    )


async def get_intake(request: Request) -> Intake:  # async: no thread-pool hop per request
    return request.app.state.intake


IntakeDep = Annotated[Intake, Depends(get_intake)]
MetaDep = Annotated[CommandMeta, Depends(get_meta)]


async def record(
    intake: Intake, meta: CommandMeta, response: Response, case_id: UUID | None,
    command: Command, decide: Decide, *, erasure: bool = False,
) -> Recorded:
    expected = command.expected_version
    if meta.if_match is not None and expected is not None and meta.if_match != expected:
        raise decisions.InvalidCommand(
            ("body", "expected_version"), "expected_version and If-Match disagree"
        )
    outcome = await intake.record(Submission(
        case_id=case_id, decide=decide, principal=meta.principal,
        correlation_id=meta.correlation_id,
        expected_version=expected if expected is not None else meta.if_match,
        idempotency_key=meta.idempotency_key, fingerprint=meta.fingerprint, erasure=erasure,
    ))
    event = outcome.event
    response.headers["ETag"] = f'"{event.sequence}"'
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return Recorded(
        case_id=event.case_id, event_id=event.event_id, type=event.type, sequence=event.sequence,
        version=event.sequence, hash=event.hash, inquiry_id=getattr(event.data, "inquiry_id", None),
    )


CREATED = {"status_code": status.HTTP_201_CREATED, "response_model": Recorded}


# --- the person and the family ----------------------------------------------------------------

@router.post("/cases", **CREATED, summary="Report a missing or detained person (opens a case)")
async def report_case(command: ReportCase, intake: IntakeDep, meta: MetaDep, response: Response):
    recorded = await record(
        intake, meta, response, None, command, lambda _, ctx: case_decisions.open_case(command, ctx)
    )
    response.headers["Location"] = f"/cases/{recorded.case_id}"
    return recorded


@router.post("/cases/{case_id}/contact-lost", **CREATED, summary="Record that the family lost contact")
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


# --- the NGO's own work on the case -----------------------------------------------------------

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


# --- inquiries to institutions ----------------------------------------------------------------

@router.post("/cases/{case_id}/inquiries", **CREATED, summary="Record an inquiry sent to an institution")
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
