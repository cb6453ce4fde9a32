"""What the audit of access answers with: one entry per read, who, when, what and from where."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field


class AccessPublic(BaseModel):
    event_id: UUID = Field(description="The access event on access-events.")
    read_at: str = Field(description="When the data was read (UTC).")
    account: str = Field(description="Who read it: their account.")
    role: str
    team: str | None
    session_id: str | None = Field(description="The login session it was read in.")
    issuer: str = Field(description="Who vouched for the account: local or oidc.")
    what: str = Field(description="case (with as_of: an audit replay), timeline, verification, "
                                  "export, or case_list.")
    case_id: UUID | None = Field(description="The case read; null for a case list.")
    as_of: str | None = Field(description="The date an audit replay asked for.")
    event_types: list[str] = Field(description="The types a timeline was limited to (none: all).")
    filters: dict[str, Any] | None = Field(description="A case list's filters, sort and page.")
    case_ids: list[UUID] | None = Field(description="The cases a case list showed.")
    total: int | None = Field(description="How many cases matched a case list's filters.")
    client_address: str | None = Field(description="Where from: the client's IP address.")
    proxy_address: str | None = Field(description="The trusted proxy it came through, if any.")
    correlation_id: UUID = Field(description="The request's id (X-Correlation-ID).")
    recorded_by: str = Field(description="The service that served the read.")
