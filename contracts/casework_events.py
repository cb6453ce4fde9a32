"""Events about the NGO's own work on a case: notes, evidence, who handles it, closing it."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from contracts.envelope import EventEnvelope
from contracts.personal_data import personal
from contracts.values import PersonalLongText, Sha256, Value, text

MediaType = text(255, pattern=r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
AccountId = text(100)
FileName = text(255)

MAX_EVIDENCE_BYTES = 20 * 1024**3


class NoteAddedData(Value):
    text: PersonalLongText = Field(
        examples=["Called the family; they have had no news since the spring."])


class NoteAdded(EventEnvelope):
    """A caseworker wrote a note on the case."""

    type: Literal["note_added"] = "note_added"
    schema_version: Literal[1] = 1
    data: NoteAddedData


class EvidenceAttachedData(Value):
    file_name: personal(FileName) = Field(examples=["court-notice-scan.pdf"])
    media_type: MediaType = Field(examples=["application/pdf", "image/jpeg"])
    size_bytes: int = Field(ge=0, le=MAX_EVIDENCE_BYTES)
    sha256: Sha256 = Field(
        description="SHA-256 of the file's bytes (64 lowercase hex); the file is stored outside "
        "the log, and this digest is how it is found and shown to be unaltered."
    )
    description: PersonalLongText | None = None


class EvidenceAttached(EventEnvelope):
    """A document, photo or recording was filed with the case; only its metadata is on the log."""

    type: Literal["evidence_attached"] = "evidence_attached"
    schema_version: Literal[1] = 1
    data: EvidenceAttachedData


class CaseAssignedData(Value):
    assignee: AccountId = Field(
        description="Account of the caseworker now responsible for the case.",
        examples=["caseworker-7"],
    )


class CaseAssigned(EventEnvelope):
    """A caseworker became responsible for the case."""

    type: Literal["case_assigned"] = "case_assigned"
    schema_version: Literal[1] = 1
    data: CaseAssignedData


class CaseOutcome(StrEnum):
    RELEASED = "released"
    RETURNED = "returned"
    LOCATED = "located"
    DECEASED = "deceased"
    FAMILY_REQUEST = "family_request"
    TRANSFERRED = "transferred"
    DUPLICATE = "duplicate"
    OTHER = "other"


class CaseClosedData(Value):
    outcome: CaseOutcome = Field(description="Why the NGO stopped working on the case.")
    note: PersonalLongText | None = None


class CaseClosed(EventEnvelope):
    """The NGO closed the case; nothing more is recorded on it until it is reopened."""

    type: Literal["case_closed"] = "case_closed"
    schema_version: Literal[1] = 1
    data: CaseClosedData


class CaseReopenedData(Value):
    reason: PersonalLongText = Field(examples=["The family heard he was moved to another prison."])


class CaseReopened(EventEnvelope):
    """A closed case was opened again."""

    type: Literal["case_reopened"] = "case_reopened"
    schema_version: Literal[1] = 1
    data: CaseReopenedData


class ErasureReason(StrEnum):
    FAMILY_REQUEST = "family_request"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    SAFETY = "safety"
    LEGAL_OBLIGATION = "legal_obligation"
    DATA_MINIMISATION = "data_minimisation"
    OTHER = "other"


class SubjectErasedData(Value):
    reason: ErasureReason = Field(description="Why; a code, not text, since text would be "
                                              "personal data and outlive the erasure.")


class SubjectErased(EventEnvelope):
    """An admin erased the subject's personal data: the case's key is destroyed for good."""

    # Every personal field of every event of the case, on the log and in every store and
    # backup, can never be read again; the events themselves, their hashes and this record
    # remain, so the history stays verifiable.

    type: Literal["subject_erased"] = "subject_erased"
    schema_version: Literal[1] = 1
    data: SubjectErasedData


CASEWORK_EVENT_TYPES: tuple[type[EventEnvelope], ...] = (
    NoteAdded,
    EvidenceAttached,
    CaseAssigned,
    CaseClosed,
    CaseReopened,
    SubjectErased,
)
