"""What may leave the NGO: the family's consent, and the parts of a case never exported.

A report records what the family agreed the case may be shared with (nothing, by default).
They may change their mind (consent_changed), and a caseworker may mark parts of a case as
never to be exported whatever the consent (export_restrictions_set), e.g. the reporter's
details while relatives are still inside the country that holds the subject.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from contracts.envelope import EventEnvelope
from contracts.values import Consent, PersonalLongText, Value


class ShareDestination(StrEnum):
    """Who an export is for; each needs the family's consent of the same name."""

    UN_BODIES = "un_bodies"
    MEDIA = "media"
    PARTNER_NGOS = "partner_ngos"

    def consented(self, consent: Consent) -> bool:
        return bool(getattr(consent, f"share_with_{self.value}"))


class ExportField(StrEnum):
    """A part of a case that can be marked never to be exported."""

    SUBJECT_NAME = "subject.name"
    SUBJECT_OTHER_NAMES = "subject.other_names"
    SUBJECT_DATE_OF_BIRTH = "subject.date_of_birth"
    SUBJECT_IDENTITY_DOCUMENTS = "subject.identity_documents"
    SUBJECT_LAST_KNOWN_PLACE = "subject.last_known_place"
    REPORTER = "reporter"
    SUMMARY = "summary"
    CONTACT_LOST = "contact_lost"
    INFORMATION = "information"
    THREATS = "threats"


def _each_once(fields: list[ExportField]) -> list[ExportField]:
    if len(set(fields)) != len(fields):
        raise ValueError("a part of the case is listed twice")
    return fields


NeverExport = Annotated[list[ExportField], Field(max_length=len(ExportField)),
                        AfterValidator(_each_once)]
"""Parts of a case never exported, each at most once."""


class ConsentChangedData(Value):
    consent: Consent = Field(description="What the family now agrees the case may be shared "
                                         "with; it replaces what they agreed before.")


class ConsentChanged(EventEnvelope):
    """The family gave or withdrew consent to share the case."""

    type: Literal["consent_changed"] = "consent_changed"
    schema_version: Literal[1] = 1
    data: ConsentChangedData


class ExportRestrictionsSetData(Value):
    never_export: NeverExport = Field(
        description="The parts of the case never exported, whatever the consent; replaces the "
                    "earlier list (an empty list lifts every restriction).")
    reason: PersonalLongText | None = Field(
        default=None, examples=["Fictional: the reporter's parents still live in the region."])


class ExportRestrictionsSet(EventEnvelope):
    """A caseworker marked parts of the case as never to be exported."""

    type: Literal["export_restrictions_set"] = "export_restrictions_set"
    schema_version: Literal[1] = 1
    data: ExportRestrictionsSetData


SHARING_EVENT_TYPES: tuple[type[EventEnvelope], ...] = (ConsentChanged, ExportRestrictionsSet)
