"""What one transaction has locked and read, so a batch of decisions asks the database once.

Notify decides many things in one transaction when much is due at once (a restart after a
day away, a burst of inquiries). Loading the rows those decisions read with one query per
table, and remembering which case streams the transaction already holds locked, turns some
twenty statements per decision into a few per batch. Outside a batch nothing is preloaded
and every lookup simply asks the session.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import inspect
from sqlmodel import Session, SQLModel, select

M = TypeVar("M", bound=SQLModel)


@dataclass
class WorkingSet:
    transaction: object
    locked: dict[UUID, Any] = field(default_factory=dict)  # case id -> its locked stream head
    rows: dict[type, dict[Any, Any]] = field(default_factory=dict)  # model -> key -> row/None


def working_set(session: Session) -> WorkingSet:
    """This transaction's working set (a new one once the session's transaction changes)."""
    if session.get_transaction() is None:
        session.connection()  # begin now, so the set belongs to the transaction that follows
    transaction = session.get_transaction()
    current = session.info.get("notify_working_set")
    if current is None or current.transaction is not transaction:
        current = session.info["notify_working_set"] = WorkingSet(transaction)
    return current


def find(session: Session, model: type[M], key: Any) -> M | None:
    """The row by primary key: from what the batch preloaded if it did, else from the session."""
    known = working_set(session).rows.get(model)
    if known is not None and key in known:
        return known[key]
    return session.get(model, key)


def remember(session: Session, row: SQLModel) -> None:
    """A row this transaction added, so a later `find` in the same batch sees it."""
    known = working_set(session).rows.get(type(row))
    if known is not None:
        known[_key_of(row)] = row


def forget(session: Session, model: type[SQLModel], key: Any) -> None:
    known = working_set(session).rows.get(model)
    if known is not None:
        known[key] = None


def preload(session: Session, model: type[M], keys: Iterable[Any]) -> None:
    """Read every row of `keys` with one query; absent ones are remembered as absent."""
    keys = [key for key in dict.fromkeys(keys) if key is not None]
    known = working_set(session).rows.setdefault(model, {})
    column = getattr(model, _key_name(model))
    for start in range(0, len(keys), 500):  # bounded IN lists
        chunk = keys[start:start + 500]
        found = {_key_of(row): row for row in session.exec(select(model).where(column.in_(chunk)))}
        for key in chunk:
            if key not in known:  # a row this transaction added stays as added
                known[key] = found.get(key)


def _key_name(model: type[SQLModel]) -> str:
    return inspect(model).primary_key[0].name


def _key_of(row: SQLModel) -> Any:
    return getattr(row, _key_name(type(row)))
