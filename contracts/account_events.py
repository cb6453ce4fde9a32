"""Events about accounts, on the account-events topic: written by the accounts service, read by
every service so that a revoked session or a disabled account stops working at once.

They carry account ids, roles and teams only: never a password, a second-factor secret or a
token.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Annotated, Literal, Union
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from contracts.access import Role
from contracts.values import ShortText, TeamName, text

AccountName = text(100, pattern=r"^[a-z0-9][a-z0-9._-]{1,99}$")


class AccountEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID
    type: str
    schema_version: int = Field(ge=1)
    account: AccountName = Field(description="The account the event is about; the message key.")
    occurred_at: AwareDatetime
    actor: AccountName = Field(description="Who did it (the account itself, or an admin).")


class AccountRoleData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role
    team: TeamName | None = None


class AccountCreated(AccountEvent):
    """An account was opened."""

    type: Literal["account_created"] = "account_created"
    schema_version: Literal[1] = 1
    data: AccountRoleData


class AccountRoleChanged(AccountEvent):
    """An account's role or team changed; tokens issued before carry the old one and are refused."""

    type: Literal["account_role_changed"] = "account_role_changed"
    schema_version: Literal[1] = 1
    data: AccountRoleData


class RevocationReason(StrEnum):
    DEVICE_SEIZED = "device_seized"  # every session of the account, at once
    LOGOUT = "logout"
    LOCKED = "locked"
    DISABLED = "disabled"
    OTHER = "other"


class SessionsRevokedData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    session_ids: list[ShortText] = Field(
        default=[], max_length=1000,
        description="The sessions ended; empty means every session begun before `revoked_before`.")
    revoked_before: AwareDatetime | None = Field(
        default=None, description="Tokens of the account issued before this are refused.")
    reason: RevocationReason


class SessionsRevoked(AccountEvent):
    """Sessions of an account were ended: their tokens are refused from now on."""

    type: Literal["sessions_revoked"] = "sessions_revoked"
    schema_version: Literal[1] = 1
    data: SessionsRevokedData


class AccountDisabled(AccountEvent):
    """An account can no longer be used at all."""

    type: Literal["account_disabled"] = "account_disabled"
    schema_version: Literal[1] = 1
    data: SessionsRevokedData


ACCOUNT_EVENT_TYPES = (AccountCreated, AccountRoleChanged, SessionsRevoked, AccountDisabled)

AnyAccountEvent = Annotated[
    Union[ACCOUNT_EVENT_TYPES],  # noqa: UP007
    Field(discriminator="type"),
]


@cache
def _adapter() -> TypeAdapter:
    return TypeAdapter(AnyAccountEvent)


def decode_account_event(raw: bytes | str) -> AccountEvent:
    return _adapter().validate_json(raw)
