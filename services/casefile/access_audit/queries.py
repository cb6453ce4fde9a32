"""The reads the audit of access makes: accesses per case, per reader, by time; newest first."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.casefile.access_audit.tables import AccessCase, AccessRecord


@dataclass(frozen=True)
class AccessFilter:
    """None means "any". Instants are fixed-width UTC text, like the rows'."""

    case_id: UUID | None = None  # the accesses that showed this case, lists included
    account: str | None = None
    what: tuple[str, ...] = ()
    since: str | None = None  # inclusive
    until: str | None = None  # inclusive


def accesses(
    session: Session, access_filter: AccessFilter, *, limit: int, offset: int
) -> tuple[list[AccessRecord], int]:
    """A page of accesses and how many match. One case's come through its rows in
    access_case (indexed by case and time), the others' through access_record."""
    conditions = list(_conditions(access_filter))
    if access_filter.case_id is None:
        counted = select(func.count()).select_from(AccessRecord)
        page = select(AccessRecord)
        newest_first = (col(AccessRecord.read_at).desc(), col(AccessRecord.event_id).desc())
    else:
        shown = (AccessCase, AccessCase.event_id == AccessRecord.event_id)
        conditions.append(AccessCase.case_id == access_filter.case_id)
        counted = select(func.count()).select_from(AccessRecord).join(*shown)
        page = select(AccessRecord).join(*shown)
        newest_first = (col(AccessCase.read_at).desc(), col(AccessCase.event_id).desc())
    total = session.exec(counted.where(*conditions)).one()
    rows = session.exec(page.where(*conditions).order_by(*newest_first)
                        .limit(limit).offset(offset))
    return list(rows), total


def cases_shown(session: Session, event_ids: list[UUID]) -> dict[UUID, list[UUID]]:
    """The cases each of these accesses showed (lists show several)."""
    if not event_ids:
        return {}
    rows = session.exec(select(AccessCase.event_id, AccessCase.case_id)
                        .where(col(AccessCase.event_id).in_(event_ids))
                        .order_by(AccessCase.event_id, AccessCase.case_id))
    shown: dict[UUID, list[UUID]] = {}
    for event_id, case_id in rows:
        shown.setdefault(event_id, []).append(case_id)
    return shown


def _conditions(f: AccessFilter) -> Iterator:
    if f.account is not None:
        yield AccessRecord.account == f.account
    if f.what:
        yield col(AccessRecord.what).in_(f.what)
    if f.since is not None:
        yield AccessRecord.read_at >= f.since
    if f.until is not None:
        yield AccessRecord.read_at <= f.until
