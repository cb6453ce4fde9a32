"""Value objects that appear inside events: people, institutions, channels, and clean text.

Text arriving in a command is checked and normalised here (Unicode NFC, no control
characters), because PostgreSQL refuses NUL in text and a name typed on two keyboards must
compare equal. Events read back from a store or the log are taken as recorded (see
`AS_RECORDED`): old events are never rewritten, not even by a stricter validator.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    ValidationInfo,
    model_serializer,
)
from pydantic_core import PydanticCustomError

from contracts.partial_dates import PartialDate
from contracts.personal_data import personal

AS_RECORDED = {"as_recorded": True}
"""Validation context for events read back from a store or the log: text is not re-cleaned."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_CONTROL_EXCEPT_LAYOUT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _clean_text(pattern: re.Pattern[str]):
    def clean(value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str) or (info.context or {}).get("as_recorded"):
            return value
        value = value.strip()
        found = pattern.search(value)
        if found:
            raise PydanticCustomError(
                "control_character",
                "must not contain control characters or unpaired surrogates "
                "(found U+{code} at position {position})",
                {"code": f"{ord(found.group()):04X}", "position": found.start()},
            )
        return unicodedata.normalize("NFC", value)

    return clean


def text(max_length: int, *, line_breaks: bool = False, pattern: str | None = None) -> Any:
    """A clean text type: trimmed, NFC, 1..max_length characters, optionally matching `pattern`."""
    # The validator is listed last so it wraps the constrained str: it runs first, and the
    # length errors stay pydantic's own string_too_long / string_too_short.
    return Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=1, max_length=max_length, pattern=pattern
        ),
        BeforeValidator(_clean_text(_CONTROL_EXCEPT_LAYOUT if line_breaks else _CONTROL)),
    ]


ShortText = text(300)
"""One line of text in any script, NFC, at most 300 characters."""

LongText = text(20_000, line_breaks=True)
"""Free text (tabs and line breaks allowed), NFC, at most 20,000 characters."""

DocumentNumber = text(64)
PhoneNumber = text(40, pattern=r"^\+?[0-9 ()./-]{3,40}$")
EmailAddress = text(254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MessengerHandle = text(100)
PostalAddress = text(1000, line_breaks=True)

PersonalShortText = personal(ShortText)
"""A line of personal data (a name, a place): encrypted inside events."""

PersonalLongText = personal(LongText)
"""Free text, which may tell anything about anyone: encrypted inside events."""

TeamName = text(100, pattern=r"^[a-z0-9][a-z0-9._-]{0,99}$")
"""The team a case belongs to (from the account of whoever recorded its report)."""

CountryCode = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str) else v),
    StringConstraints(pattern=r"^[A-Z]{2}$"),
    Field(description="ISO 3166-1 alpha-2 country code", examples=["CN", "KZ", "CH"]),
]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
"""A SHA-256 digest as 64 lowercase hex characters."""


class Value(BaseModel):
    """Base of everything inside an event: immutable, unknown fields refused.

    A field added to a model that is already on the log is listed in `omitted_at_default`:
    it is left out of the JSON while it holds its default, so an event recorded before the
    field existed re-encodes to the very bytes it was hashed over (contracts.chain).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    omitted_at_default: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _omit_later_fields_at_default(self, handler: SerializerFunctionWrapHandler):
        dumped = handler(self)
        for name in self.omitted_at_default:
            default = type(self).model_fields[name].get_default(call_default_factory=True)
            if name in dumped and getattr(self, name) == default:
                del dumped[name]
        return dumped


class NameKind(StrEnum):
    """Which script or transliteration a name is written in, or what kind of name it is."""

    KAZAKH_CYRILLIC = "kazakh_cyrillic"
    RUSSIAN_CYRILLIC = "russian_cyrillic"
    KYRGYZ_CYRILLIC = "kyrgyz_cyrillic"
    UYGHUR_ARABIC = "uyghur_arabic"
    UYGHUR_LATIN = "uyghur_latin"
    CHINESE = "chinese"
    PINYIN = "pinyin"
    LATIN_TRANSLITERATION = "latin_transliteration"
    ALIAS = "alias"
    FORMER_NAME = "former_name"
    OTHER = "other"


class PersonName(Value):
    """One more way the subject's name is written: another script, a transliteration, an alias."""

    value: PersonalShortText = Field(examples=["Aigul Saparova", "艾古丽·萨帕尔", "ئايگۈل"])
    kind: NameKind


class IdentityDocumentKind(StrEnum):
    PASSPORT = "passport"
    NATIONAL_ID = "national_id"
    RESIDENT_ID = "resident_id"
    RESIDENCE_PERMIT = "residence_permit"
    BIRTH_CERTIFICATE = "birth_certificate"
    DRIVING_LICENCE = "driving_licence"
    OTHER = "other"


class IdentityDocument(Value):
    """An identity document of the subject, which institutions need to find the person."""

    kind: IdentityDocumentKind
    number: personal(DocumentNumber) = Field(examples=["N00000000"])
    issuing_country: CountryCode | None = None


class Subject(Value):
    """The person who disappeared or was detained."""

    omitted_at_default = frozenset(
        {"other_names", "date_of_birth", "citizenships", "identity_documents", "last_known_place"}
    )

    name: PersonalShortText = Field(description="Name as the family gives it, in any script.")
    other_names: list[PersonName] = Field(
        default=[], max_length=20,
        description="The same person's name in other scripts, transliterations or aliases.",
    )
    date_of_birth: personal(PartialDate) | None = Field(
        default=None, description="As precise as the family knows it, e.g. '1984' or '1984-03'."
    )
    citizenships: list[CountryCode] = Field(default=[], max_length=5)
    identity_documents: list[IdentityDocument] = Field(default=[], max_length=10)
    last_known_place: PersonalShortText | None = Field(
        default=None, description="Where the subject was last known to be.",
        examples=["Ghulja (Yining), Xinjiang"],
    )


class ContactDetails(Value):
    """How the NGO can reach a reporter; every part optional."""

    phone: personal(PhoneNumber) | None = Field(
        default=None, examples=["+7 700 000 0000"]
    )
    email: personal(EmailAddress) | None = Field(
        default=None, examples=["family@example.org"]
    )
    messenger: personal(MessengerHandle) | None = Field(
        default=None, description="Messenger and handle.", examples=["Telegram @example_family"]
    )
    address: personal(PostalAddress) | None = None


class Reporter(Value):
    """The person who reported the case, usually a relative."""

    omitted_at_default = frozenset({"contact"})

    name: PersonalShortText = Field(description="Reporter's name, in any script.")
    relationship: ShortText = Field(
        description="Relationship to the subject.", examples=["daughter", "brother", "colleague"]
    )
    contact: ContactDetails | None = None


class Consent(Value):
    """What the family agreed the case may be shared with. Nothing is shared unless agreed."""

    share_with_un_bodies: bool = False
    share_with_media: bool = False
    share_with_partner_ngos: bool = False


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
    """How an inquiry or follow-up was sent."""

    LETTER = "letter"
    EMAIL = "email"
    PHONE = "phone"
    IN_PERSON = "in_person"
    FAX = "fax"
    PORTAL = "portal"


class ContactChannel(StrEnum):
    """How the family was (or again is) in touch with the subject."""

    PHONE = "phone"
    MESSENGER = "messenger"
    VIDEO_CALL = "video_call"
    SOCIAL_MEDIA = "social_media"
    EMAIL = "email"
    LETTER = "letter"
    IN_PERSON = "in_person"
    VIA_THIRD_PARTY = "via_third_party"
    OTHER = "other"


class Recipient(Value):
    """The institution an inquiry was sent to."""

    name: ShortText = Field(examples=["Embassy of the People's Republic of China in Astana"])
    kind: RecipientKind
    country: CountryCode
