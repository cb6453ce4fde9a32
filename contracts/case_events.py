"""Events about the person and the family: the report, contact, information, status, reprisals."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from contracts.envelope import EventEnvelope
from contracts.partial_dates import PartialDate
from contracts.values import (
    Consent,
    ContactChannel,
    PersonalLongText,
    PersonalShortText,
    Reporter,
    ShortText,
    Subject,
    TeamName,
    Value,
)


class ReportReceivedData(Value):
    omitted_at_default = frozenset({"consent", "team"})

    subject: Subject
    reporter: Reporter
    summary: PersonalLongText = Field(description="What the reporter told the caseworker.")
    consent: Consent = Field(
        default=Consent(),
        description="What the family agreed the case may be shared with; absent means nothing.",
    )
    team: TeamName | None = Field(
        default=None, description="The team the case belongs to: the one of whoever recorded "
                                  "the report. Reports recorded before teams existed have none.")


class ReportReceived(EventEnvelope):
    """A relative or witness reported the subject missing or detained; this opens the case."""

    type: Literal["report_received"] = "report_received"
    schema_version: Literal[1] = 1
    data: ReportReceivedData


class ContactLostDataV1(Value):
    """contact_lost as recorded until version 2: read through contracts.upcasting."""

    omitted_at_default = frozenset({"channel"})

    last_contact_at: PartialDate = Field(description="Last time the family heard from the subject.")
    circumstances: PersonalLongText = Field(description="How and where contact was lost.")
    channel: ContactChannel | None = Field(
        default=None, description="How the family was last in touch with the subject."
    )


class ContactLostV1(EventEnvelope):
    """The family lost contact with the subject (version 1, kept to read older logs)."""

    type: Literal["contact_lost"] = "contact_lost"
    schema_version: Literal[1] = 1
    data: ContactLostDataV1


class LastContact(Value):
    """The last time the family heard from the subject: when, how, and where they were."""

    at: PartialDate = Field(description="Last time the family heard from the subject.")
    channel: ContactChannel | None = Field(
        default=None, description="How the family was last in touch with the subject."
    )
    place: PersonalShortText | None = Field(
        default=None, description="Where the subject was when last heard from.",
        examples=["Ürümqi airport", "a relative's home in Ghulja (Yining)"],
    )


class ContactLostData(Value):
    last_contact: LastContact
    circumstances: PersonalLongText = Field(description="How and where contact was lost.")


class ContactLost(EventEnvelope):
    """The family lost contact with the subject."""

    # Version 2 gathers when, how and where the subject was last heard from into
    # `last_contact` and adds the place; version 1 events are upcast to it when read.

    type: Literal["contact_lost"] = "contact_lost"
    schema_version: Literal[2] = 2
    data: ContactLostData


class ContactRestoredData(Value):
    restored_at: PartialDate = Field(description="When the family heard from the subject again.")
    channel: ContactChannel | None = Field(default=None, description="How the contact came back.")
    circumstances: PersonalLongText = Field(
        description="What the contact was like.",
        examples=["A short video call from an unknown number."],
    )


class ContactRestored(EventEnvelope):
    """The family is in touch with the subject again."""

    type: Literal["contact_restored"] = "contact_restored"
    schema_version: Literal[1] = 1
    data: ContactRestoredData


class Reliability(StrEnum):
    RUMOUR = "rumour"
    UNVERIFIED = "unverified"
    CONFIRMED = "confirmed"


class InformationReceivedData(Value):
    received_at: PartialDate = Field(description="When the information reached the NGO.")
    source: PersonalShortText = Field(
        description="Where it came from, described without exposing the source more than needed.",
        examples=["a former detainee", "a neighbour of the family"],
    )
    reliability: Reliability = Field(description="How far the caseworker trusts it.")
    content: PersonalLongText = Field(
        examples=["Said to be held in a camp near the city since 2018."])


class InformationReceived(EventEnvelope):
    """Second-hand information about the subject arrived, from rumour to confirmed fact."""

    type: Literal["information_received"] = "information_received"
    schema_version: Literal[1] = 1
    data: InformationReceivedData


class SubjectStatus(StrEnum):
    MISSING = "missing"
    DETAINED = "detained"
    IN_CAMP = "in_camp"
    SENTENCED = "sentenced"
    RELEASED = "released"
    RETURNED = "returned"
    DECEASED = "deceased"
    UNKNOWN = "unknown"


class StatusChangedData(Value):
    status: SubjectStatus = Field(description="The subject's situation from `effective_at` on.")
    effective_at: PartialDate = Field(description="Since when the status holds, as far as known.")
    source: PersonalShortText = Field(
        description="What the change is based on.",
        examples=["official response of 2025-02-20", "account of a released detainee"],
    )


class StatusChanged(EventEnvelope):
    """What is known of the subject's situation changed (detained, sentenced, released...)."""

    type: Literal["status_changed"] = "status_changed"
    schema_version: Literal[1] = 1
    data: StatusChangedData


class ThreatTarget(StrEnum):
    FAMILY = "family"
    REPORTER = "reporter"
    ADVOCATE = "advocate"
    WITNESS = "witness"
    OTHER = "other"


class ThreatKind(StrEnum):
    THREAT = "threat"
    INTIMIDATION = "intimidation"
    QUESTIONING = "questioning"
    DETENTION = "detention"
    SURVEILLANCE = "surveillance"
    HACKING = "hacking"
    TRAVEL_BAN = "travel_ban"
    LOSS_OF_LIVELIHOOD = "loss_of_livelihood"
    OTHER = "other"


class ThreatReportedData(Value):
    target: ThreatTarget = Field(description="Who was targeted.")
    kind: ThreatKind = Field(description="What was done to them.")
    happened_at: PartialDate = Field(description="When it happened.")
    description: PersonalLongText = Field(
        examples=["Relatives in Xinjiang were told to make the family stop speaking to NGOs."]
    )


class ThreatReported(EventEnvelope):
    """The family, the reporter or the advocate was threatened or suffered a reprisal."""

    type: Literal["threat_reported"] = "threat_reported"
    schema_version: Literal[1] = 1
    data: ThreatReportedData


class PublicActionKind(StrEnum):
    PROTEST = "protest"
    MEDIA = "media"
    UN_SUBMISSION = "un_submission"
    SOCIAL_MEDIA = "social_media"
    PETITION = "petition"
    OTHER = "other"


class PublicActionTakenData(Value):
    kind: PublicActionKind
    taken_at: PartialDate = Field(description="When the action took place.")
    description: PersonalLongText
    reference: ShortText | None = Field(
        default=None, description="E.g. the UN communication number or the article's address."
    )


class PublicActionTaken(EventEnvelope):
    """The case was taken public: a protest, a media story, a submission to a UN body."""

    type: Literal["public_action_taken"] = "public_action_taken"
    schema_version: Literal[1] = 1
    data: PublicActionTakenData


class FamilyCheckedInData(Value):
    checked_in_at: PartialDate = Field(
        description="When the NGO heard from the family (at least the day).",
        examples=["2025-03-04", "2025-03-04T10:30:00+06:00"],
    )
    channel: ContactChannel | None = Field(default=None, description="How they were in touch.")
    note: PersonalLongText | None = Field(
        default=None, examples=["Called; the family is safe and has no news of him."]
    )


class FamilyCheckedIn(EventEnvelope):
    """The NGO heard from the subject's family: they are reachable, whatever their news."""

    # After contact_lost, notify alerts when the family has gone silent for too long; a
    # check-in (or contact_restored) stops that clock.

    type: Literal["family_checked_in"] = "family_checked_in"
    schema_version: Literal[1] = 1
    data: FamilyCheckedInData


CASE_EVENT_TYPES: tuple[type[EventEnvelope], ...] = (
    ReportReceived,
    ContactLost,
    ContactRestored,
    InformationReceived,
    StatusChanged,
    ThreatReported,
    PublicActionTaken,
    FamilyCheckedIn,
)

SUPERSEDED_CASE_EVENT_TYPES: tuple[type[EventEnvelope], ...] = (ContactLostV1,)
"""Older versions still on the log: decoded as recorded, read through contracts.upcasting."""
