"""Access events off the log become read-model rows, or a reason they cannot. Pure.

The live consumer and the rebuild both fold with these functions, so they write the same rows
and flag the same messages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import NamedTuple

from pydantic import ValidationError

from contracts.access_events import CaseAccessed, CasesListed, decode_access_event
from services.casefile.decoding import describe_errors
from services.casefile.rows import instant

CASE_LIST = "case_list"  # `what` of a list's row


@dataclass(frozen=True, slots=True)
class Unreadable:
    reason: str  # error types and field names only


class RecordRow(NamedTuple):
    event_id: object
    type: str
    read_at: str
    account: str
    role: str
    team: str | None
    session_id: str | None
    issuer: str
    what: str
    case_id: object
    as_of: str | None
    event_types: str | None
    filters: str | None
    cases_shown: int | None
    total: int | None
    client_address: str | None
    proxy_address: str | None
    correlation_id: object
    recorded_by: str


class CaseRow(NamedTuple):
    case_id: object
    event_id: object
    read_at: str


class Folded(NamedTuple):
    record: RecordRow
    cases: list[CaseRow]


def decode(value: bytes | None) -> CaseAccessed | CasesListed | Unreadable:
    try:
        return decode_access_event(value or b"")
    except ValidationError as exc:
        return Unreadable(f"undecodable access event: {describe_errors(exc)}")


def fold(event: CaseAccessed | CasesListed) -> Folded:
    read_at = instant(event.occurred_at)
    common = dict(
        event_id=event.event_id, type=event.type, read_at=read_at,
        account=event.reader.account, role=event.reader.role.value, team=event.reader.team,
        session_id=event.reader.session_id, issuer=event.reader.issuer,
        client_address=event.client.address, proxy_address=event.client.proxy,
        correlation_id=event.correlation_id, recorded_by=event.recorded_by,
    )
    if isinstance(event, CaseAccessed):
        data = event.data
        record = RecordRow(
            **common, what=data.what.value, case_id=event.case_id, as_of=data.as_of,
            event_types=_json(data.event_types) if data.event_types else None,
            filters=None, cases_shown=None, total=None)
        return Folded(record, [CaseRow(event.case_id, event.event_id, read_at)])
    data = event.data
    shown = list(dict.fromkeys(data.case_ids))  # a case once, however often a page had it
    record = RecordRow(
        **common, what=CASE_LIST, case_id=None, as_of=None, event_types=None,
        filters=_json(data.filters), cases_shown=len(data.case_ids), total=data.total)
    return Folded(record, [CaseRow(case_id, event.event_id, read_at) for case_id in shown])


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
