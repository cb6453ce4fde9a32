"""What a caseworker asks intake to record: HTTP request bodies, in the imperative.

Every example is fictional. Fields added after a command was first published are optional
with the safe default (nothing shared, nothing classified), so older clients keep working.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.case_events import (
    PublicActionKind,
    Reliability,
    SubjectStatus,
    ThreatKind,
    ThreatTarget,
)
from contracts.casework_events import (
    MAX_EVIDENCE_BYTES,
    AccountId,
    CaseOutcome,
    ErasureReason,
    FileName,
    MediaType,
)
from contracts.inquiry_events import Reference, ResponseClassification
from contracts.partial_dates import PartialDate
from contracts.sharing_events import NeverExport
from contracts.values import (
    Channel,
    Consent,
    ContactChannel,
    LongText,
    Recipient,
    Reporter,
    Sha256,
    ShortText,
    Subject,
)


def example(**body: Any) -> ConfigDict:
    """The command's OpenAPI example: one realistic, fictional request body."""
    return ConfigDict(json_schema_extra={"examples": [body]})


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    expected_version: int | None = Field(
        default=None, ge=0,
        description="The case version this command is based on (same as If-Match); "
        "a stale one is refused with 409 and the current version.",
    )


class ReportCase(Command):
    model_config = example(
        subject={
            "name": "Айгүл Сапарқызы (fictional)",
            "other_names": [
                {"value": "Aigul Saparkyzy (fictional)", "kind": "latin_transliteration"},
                {"value": "艾古丽·萨帕尔（虚构）", "kind": "chinese"},
            ],
            "date_of_birth": "1984-03",
            "citizenships": ["CN"],
            "identity_documents": [
                {"kind": "passport", "number": "DEMO0000001", "issuing_country": "CN"},
            ],
            "last_known_place": "Ghulja, Xinjiang (fictional example)",
        },
        reporter={
            "name": "Нұрлан Сапаров (fictional)", "relationship": "brother",
            "contact": {"phone": "+7 700 000 0000", "email": "family@example.org"},
        },
        summary="Fictional example: she went to visit relatives in 2017 and never came back.",
        consent={
            "share_with_un_bodies": True,
            "share_with_media": False,
            "share_with_partner_ngos": True,
        },
        reported_at="2019-03-04",
    )

    subject: Subject
    reporter: Reporter
    summary: LongText
    consent: Consent = Field(
        default=Consent(), description="What the family agreed to share; omitted means nothing."
    )
    reported_at: PartialDate | None = Field(
        default=None, description="When the report was made; defaults to now."
    )


class RecordContactLost(Command):
    model_config = example(
        last_contact_at="2017-05", channel="messenger", last_contact_place="Khorgos border post",
        circumstances="Fictional example: her messages stopped after she crossed the border.",
    )

    last_contact_at: PartialDate
    circumstances: LongText
    channel: ContactChannel | None = None
    last_contact_place: ShortText | None = Field(
        default=None, description="Where the subject was when last heard from."
    )


class RecordContactRestored(Command):
    model_config = example(
        restored_at="2024-11-02", channel="video_call",
        circumstances="Fictional example: a two-minute video call from an unknown number.",
    )

    restored_at: PartialDate
    circumstances: LongText
    channel: ContactChannel | None = None


class RecordInformation(Command):
    model_config = example(
        received_at="2021-06", source="a former detainee (fictional)", reliability="rumour",
        content="Fictional example: said to have been seen in a camp near the city in 2019.",
    )

    received_at: PartialDate
    source: ShortText
    reliability: Reliability
    content: LongText


class RecordStatusChange(Command):
    model_config = example(
        status="sentenced", effective_at="2019-11",
        source="Fictional example: official response of 2025-02-20",
    )

    status: SubjectStatus
    effective_at: PartialDate
    source: ShortText


class ReportThreat(Command):
    model_config = example(
        target="family", kind="questioning", happened_at="2025-01-20",
        description="Fictional example: relatives were questioned about the family's NGO contacts.",
    )

    target: ThreatTarget
    kind: ThreatKind
    happened_at: PartialDate
    description: LongText


class RecordPublicAction(Command):
    model_config = example(
        kind="un_submission", taken_at="2025-02-01", reference="DEMO-UA-0000 (fictional)",
        description="Fictional example: case submitted to the UN working group on disappearances.",
    )

    kind: PublicActionKind
    taken_at: PartialDate
    description: LongText
    reference: ShortText | None = None


class AddNote(Command):
    model_config = example(text="Fictional example: called the family; still no news.")

    text: LongText


class AttachEvidence(Command):
    model_config = example(
        file_name="court-notice-scan.pdf", media_type="application/pdf", size_bytes=482113,
        sha256="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        description="Fictional example: scan of a court notice the family received.",
    )

    file_name: FileName
    media_type: MediaType
    size_bytes: int = Field(ge=0, le=MAX_EVIDENCE_BYTES)
    sha256: Sha256 = Field(description="SHA-256 of the file, 64 lowercase hex characters.")
    description: LongText | None = None


class AssignCase(Command):
    model_config = example(assignee="caseworker-7")

    assignee: AccountId


class CloseCase(Command):
    model_config = example(outcome="released", note="Fictional example: home since 2025-03-01.")

    outcome: CaseOutcome
    note: LongText | None = None


class ReopenCase(Command):
    model_config = example(reason="Fictional example: the family reports he was detained again.")

    reason: LongText


class ChangeConsent(Command):
    """What the family now agrees to share; it replaces what they agreed before."""

    model_config = example(consent={"share_with_un_bodies": True, "share_with_media": False,
                                    "share_with_partner_ngos": True})

    consent: Consent


class RestrictExport(Command):
    """Mark parts of the case never to be exported (replaces the earlier list; [] lifts all)."""

    model_config = example(
        never_export=["reporter", "subject.identity_documents"],
        reason="Fictional example: the reporter's parents still live in the region.",
    )

    never_export: NeverExport
    reason: LongText | None = None


class EraseSubject(Command):
    """An admin, having entered their password again within minutes, erases the subject's
    personal data for good (the case's key is destroyed)."""

    model_config = example(reason="family_request")

    reason: ErasureReason


class SendInquiry(Command):
    model_config = example(
        recipient={"name": "Consulate General in Almaty (fictional example)", "kind": "consulate",
                   "country": "CN"},
        channel="letter", sent_at="2025-01-15", reference="DEMO-2025/014",
        due_at="2025-02-14T00:00:00Z",
    )

    recipient: Recipient
    channel: Channel
    sent_at: PartialDate
    due_at: AwareDatetime | None = None
    reference: Reference | None = None


class SendFollowUp(Command):
    model_config = example(channel="email", sent_at="2025-02-20", reference="DEMO-2025/014-R1")

    channel: Channel
    sent_at: PartialDate
    reference: Reference | None = None


class RecordResponse(Command):
    model_config = example(
        received_at="2025-02-20", classification="sentence_disclosed",
        summary="Fictional example: sentenced to 10 years in 2019; no place of detention given.",
    )

    received_at: PartialDate
    summary: LongText
    classification: ResponseClassification | None = Field(
        default=None,
        description="What kind of answer it is; omit if not judged yet (never assumed 'other').",
    )


class WithdrawInquiry(Command):
    model_config = example(reason="Fictional example: sent to the wrong consulate.")

    withdrawn_at: PartialDate | None = Field(default=None, description="Defaults to now.")
    reason: LongText | None = None


class PauseInquiry(Command):
    model_config = example(
        paused_on="2025-02-20",
        reason="Fictional example: the consulate asked for the birth certificate; the family "
        "is having it sent from abroad.",
    )

    paused_on: date | None = Field(
        default=None, description="First day that does not count towards the deadline; "
        "defaults to today. Not before the inquiry was sent, not in the future.",
    )
    reason: LongText | None = None


class ResumeInquiry(Command):
    model_config = example(resumed_on="2025-02-27")

    resumed_on: date | None = Field(
        default=None, description="First day that counts towards the deadline again; defaults "
        "to today. Not before the day the inquiry was paused, not in the future.",
    )


class ExtendDeadline(Command):
    model_config = example(
        due_at="2025-04-15T00:00:00Z",
        reason="Fictional example: the consulate promised an answer after the holidays.",
    )

    due_at: AwareDatetime = Field(
        description="The new response deadline, with its UTC offset; it replaces the policy's "
        "and any earlier one. Not before the inquiry was sent.",
    )
    reason: LongText | None = None


class RecordFamilyCheckIn(Command):
    model_config = example(
        checked_in_at="2025-02-28T10:30:00+06:00", channel="phone",
        note="Fictional example: the family called; they are safe and have no news of her.",
    )

    checked_in_at: PartialDate = Field(
        description="When the NGO heard from the family: a day ('2025-02-28') or an exact "
        "moment; a month or a year is too vague to tell how long they have been silent.",
    )
    channel: ContactChannel | None = Field(default=None, description="How they were in touch.")
    note: LongText | None = None
