"""Accounts' tables: accounts, their sessions, and the account events waiting for the log.

The only store in the system that is not rebuilt from the log: password hashes and second-
factor secrets must never be on it. Its schema is migrated by alembic (migrations/).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from sqlalchemy import DateTime, Engine, Text, TypeDecorator, event
from sqlmodel import Column, Field, SQLModel, create_engine

metadata = SQLModel.metadata


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, stored naive in UTC so SQLite and PostgreSQL agree."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _moment(**kwargs):
    return Field(sa_type=UTCDateTime, **kwargs)


class Account(SQLModel, table=True):
    __tablename__ = "account"

    account: str = Field(primary_key=True, max_length=100)
    role: str = Field(max_length=20)
    team: str | None = Field(default=None, max_length=100)
    password_hash: str = Field(max_length=200)  # argon2id, parameters and salt included
    totp_secret: str | None = Field(default=None, max_length=400)  # encrypted at rest
    totp_last_step: int | None = None  # the last time step used: a code works once
    failed_logins: int = 0
    locked_until: datetime | None = _moment(default=None)
    disabled: bool = False
    created_at: datetime = _moment()


class LoginSession(SQLModel, table=True):
    __tablename__ = "login_session"

    session_id: str = Field(primary_key=True, max_length=64)
    account: str = Field(index=True, max_length=100)
    refresh_hash: str = Field(max_length=64)  # SHA-256 of the refresh token, never the token
    created_at: datetime = _moment()
    auth_time: datetime = _moment()  # when the password was last entered in it
    last_used_at: datetime = _moment()
    revoked_at: datetime | None = _moment(default=None)


class AccountOutbox(SQLModel, table=True):
    """Account events committed with the change they record, published by the relay."""

    __tablename__ = "account_outbox"

    position: int | None = Field(default=None, primary_key=True)
    event_id: UUID
    account: str = Field(max_length=100)
    body: str = Field(sa_column=Column(Text, nullable=False))


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", lambda c: c.exec_driver_sql("BEGIN IMMEDIATE"))
    return engine


def _sqlite_connect(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
    dbapi_connection.isolation_level = None  # transactions are begun by the "begin" listener
