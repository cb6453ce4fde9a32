"""Value objects that appear inside events: people, institutions, channels."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
CountryCode = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str) else v),
    StringConstraints(pattern=r"^[A-Z]{2}$"),
    Field(description="ISO 3166-1 alpha-2 country code", examples=["CN", "KZ", "CH"]),
]


class Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Subject(Value):
    """The person who disappeared or was detained."""

    name: ShortText = Field(description="Name as the family gives it, in any script.")


class Reporter(Value):
    """The person who reported the case, usually a relative."""

    name: ShortText = Field(description="Reporter's name, in any script.")
    relationship: ShortText = Field(
        description="Relationship to the subject.", examples=["daughter", "brother", "colleague"]
    )


class RecipientKind(StrEnum):
    EMBASSY = "embassy"
    CONSULATE = "consulate"
    POLICE = "police"
    MINISTRY = "ministry"
    UN_BODY = "un_body"
    COURT = "court"
    PROSECUTOR = "prosecutor"
    OTHER = "other"


class Channel(StrEnum):
    LETTER = "letter"
    EMAIL = "email"
    PHONE = "phone"
    IN_PERSON = "in_person"
    FAX = "fax"
    PORTAL = "portal"


class Recipient(Value):
    """The institution an inquiry was sent to."""

    name: ShortText = Field(examples=["Embassy of the People's Republic of China in Astana"])
    kind: RecipientKind
    country: CountryCode
