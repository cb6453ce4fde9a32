"""Reads of case data by people, on the access-events topic: the audit of access.

Written by the service that served the read (casefile today), before the data left it; read
back by casefile into the lists auditors query. An access event says who read (account, role,
team, session), what (a case, its timeline, an audit replay and its date, a verification, an
export; or a case list with its filters and the case ids it showed), when, from where (the
client's address) and under which request (correlation id).

It never carries any of the case's content: no name, no date or place from a report, no text.
A case access is keyed by case id, a list by the reader's account.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Annotated, Literal, Union
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from contracts.access import Role
from contracts.partial_dates import PartialDate
from contracts.values import ShortText, text

FilterName = text(64, pattern=r"^[a-z][a-z0-9_]*$")
FilterValue = text(300)
EventTypeName = text(64, pattern=r"^[a-z][a-z0-9_]*$")


class CaseRead(StrEnum):
    """What of one case was read."""

    CASE = "case"  # the case view; with `as_of`, an audit replay of it
    TIMELINE = "timeline"  # its events; with `as_of`, as recorded by then
    VERIFICATION = "verification"  # the hash chains of its streams
    EXPORT = "export"  # the case taken out of the system


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Reader(_Frozen):
    """Who read, as their access token says: an account of the NGO, never a person in a case."""

    account: ShortText = Field(examples=["caseworker-7"])
    role: Role
    team: ShortText | None = None
    session_id: ShortText | None = Field(
        default=None, description="The login session: what a seized device could have read.")
    issuer: ShortText = Field(default="local", description="local (accounts) or oidc.")


class Client(_Frozen):
    """Where the request came from, as far as the service can tell."""

    address: ShortText | None = Field(
        description="The client's IP address: the connecting peer, or the address a trusted "
        "proxy forwarded (X-Forwarded-For); null if that could not be read.",
        examples=["192.0.2.10"])
    proxy: ShortText | None = Field(
        default=None, description="The trusted proxy the request came through, if any.")


class AccessEvent(_Frozen):
    """Fields every access event carries."""

    event_id: UUID = Field(description="Unique id; consumers deduplicate on it.")
    type: str
    schema_version: int = Field(ge=1)
    occurred_at: AwareDatetime = Field(description="When the data was read (UTC).")
    recorded_by: ShortText = Field(description="The service that served the read.",
                                   examples=["casefile"])
    reader: Reader
    client: Client
    correlation_id: UUID = Field(
        description="The request's id: its X-Correlation-ID, or one made for it.")


class CaseAccessedData(_Frozen):
    what: CaseRead
    as_of: PartialDate | None = Field(
        default=None, description="Set for an audit replay: the date or moment asked for.")
    event_types: list[EventTypeName] = Field(
        default=[], max_length=100,
        description="The event types a timeline was limited to; empty means every type.")


class CaseAccessed(AccessEvent):
    """A person read one case's data (its view, timeline, verification or an export)."""

    type: Literal["case_accessed"] = "case_accessed"
    schema_version: Literal[1] = 1
    case_id: UUID = Field(description="The case read; the message key.")
    data: CaseAccessedData


class CasesListedData(_Frozen):
    filters: dict[FilterName, FilterValue | int | bool | list[FilterValue]] = Field(
        description="The list's filters, sort and page as the reader gave them.",
        examples=[{"status": ["open"], "sort": "-opened_at", "limit": 50, "offset": 0}])
    case_ids: list[UUID] = Field(
        max_length=1000, description="The cases the list showed (its page), in its order.")
    total: int = Field(ge=0, description="How many cases matched the filters.")


class CasesListed(AccessEvent):
    """A person read a list of cases (a line of each: subject's name, status, dates)."""

    type: Literal["cases_listed"] = "cases_listed"
    schema_version: Literal[1] = 1
    data: CasesListedData


ACCESS_EVENT_TYPES = (CaseAccessed, CasesListed)

AnyAccessEvent = Annotated[
    Union[ACCESS_EVENT_TYPES],  # noqa: UP007
    Field(discriminator="type"),
]


@cache
def _adapter() -> TypeAdapter:
    return TypeAdapter(AnyAccessEvent)


def decode_access_event(raw: bytes | str) -> CaseAccessed | CasesListed:
    """Parse one access event; raises pydantic.ValidationError if it is not one."""
    return _adapter().validate_json(raw)


def encode_access_event(event: AccessEvent) -> bytes:
    return event.model_dump_json().encode()


def message_key(event: CaseAccessed | CasesListed) -> bytes:
    """A case's accesses stay in one partition; a list's go with its reader's."""
    if isinstance(event, CaseAccessed):
        return str(event.case_id).encode()
    return event.reader.account.encode()
