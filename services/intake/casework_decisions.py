"""Decisions on the NGO's own work on a case: notes, evidence, assignment, closing, reopening."""

from __future__ import annotations

from contracts.casework_events import (
    CaseAssigned,
    CaseAssignedData,
    CaseClosed,
    CaseClosedData,
    CaseReopened,
    CaseReopenedData,
    EvidenceAttached,
    EvidenceAttachedData,
    NoteAdded,
    NoteAddedData,
    SubjectErased,
    SubjectErasedData,
)
from services.intake.commands import (
    AddNote,
    AssignCase,
    AttachEvidence,
    CloseCase,
    EraseSubject,
    ReopenCase,
)
from services.intake.decisions import CaseState, Context, RuleViolated


def add_note(case: CaseState, command: AddNote, ctx: Context) -> NoteAdded:
    return ctx.event(NoteAdded, case, ctx.today(), NoteAddedData(text=command.text))


def attach_evidence(case: CaseState, command: AttachEvidence, ctx: Context) -> EvidenceAttached:
    return ctx.event(
        EvidenceAttached,
        case,
        ctx.today(),
        EvidenceAttachedData(
            file_name=command.file_name,
            media_type=command.media_type,
            size_bytes=command.size_bytes,
            sha256=command.sha256,
            description=command.description,
        ),
    )


def assign_case(case: CaseState, command: AssignCase, ctx: Context) -> CaseAssigned:
    return ctx.event(CaseAssigned, case, ctx.today(), CaseAssignedData(assignee=command.assignee))


def close_case(case: CaseState, command: CloseCase, ctx: Context) -> CaseClosed:
    # Closing a closed case is refused by Context.event, like any other event on it.
    return ctx.event(
        CaseClosed, case, ctx.today(), CaseClosedData(outcome=command.outcome, note=command.note)
    )


def reopen_case(case: CaseState, command: ReopenCase, ctx: Context) -> CaseReopened:
    if not case.closed:
        raise RuleViolated("case_not_closed", "only a closed case can be reopened")
    return ctx.event(
        CaseReopened, case, ctx.today(), CaseReopenedData(reason=command.reason),
        on_closed_case=True,
    )


def erase_subject(case: CaseState, command: EraseSubject, ctx: Context) -> SubjectErased:
    """Recorded on open and closed cases alike; the key is destroyed once it is committed."""
    if case.erased:
        raise RuleViolated("subject_already_erased", "the subject was already erased")
    return ctx.event(SubjectErased, case, ctx.today(), SubjectErasedData(reason=command.reason),
                     on_closed_case=True)
