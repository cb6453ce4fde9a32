"""The audit of access as read models, folded from access-events like the case tables.

One row per access event (who, when, what, from where), and one per case it showed: a case
view shows one, a list each case on its page. Columns hold what the events hold, instants as
fixed-width UTC text and lists as canonical JSON, so a replay writes the same rows on SQLite
and PostgreSQL.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import Index, Text
from sqlmodel import Column, Field, SQLModel


class AccessRecord(SQLModel, table=True):
    __tablename__ = "access_record"
    __table_args__ = (Index("ix_access_record_reader", "account", "read_at"),)

    event_id: UUID = Field(primary_key=True)
    type: str
    read_at: str = Field(index=True)
    account: str
    role: str
    team: str | None = None
    session_id: str | None = None
    issuer: str
    what: str  # case, timeline, verification, export; case_list for a list
    case_id: UUID | None = None  # the case read; None for a list
    as_of: str | None = None
    event_types: str | None = None  # JSON list: what a timeline was limited to
    filters: str | None = Field(default=None, sa_column=Column(Text))  # JSON object, for a list
    cases_shown: int | None = None
    total: int | None = None
    client_address: str | None = None
    proxy_address: str | None = None
    correlation_id: UUID
    recorded_by: str


class AccessCase(SQLModel, table=True):
    """A case an access showed: how an auditor finds every read of one case."""

    __tablename__ = "access_case"
    __table_args__ = (Index("ix_access_case_read", "case_id", "read_at"),)

    case_id: UUID = Field(primary_key=True)
    event_id: UUID = Field(primary_key=True)
    read_at: str
