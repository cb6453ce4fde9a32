"""Messages off the log become events to fold, or a reason they cannot be. Pure.

The live consumer and the rebuild decode with this one function, so a message one of them
cannot read is unreadable to the other for the same reason, and both flag it the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from uuid import UUID

from pydantic import ValidationError

from contracts.events import EventEnvelope, decode_event
from contracts.upcasting import upcast


@dataclass(frozen=True, slots=True)
class Decoded:
    event: EventEnvelope  # upcast to the current version of its type
    recorded_version: int  # the schema version it was written in
    body: str  # the JSON exactly as it is on the log


@dataclass(frozen=True, slots=True)
class Undecodable:
    reason: str  # error types and field names only: the content may name people
    case_id: UUID | None  # from the message key or body, when it can be told at all


def decode(value: bytes | None, key: bytes | None = None) -> Decoded | Undecodable:
    try:
        body = (value or b"").decode("utf-8")
    except UnicodeDecodeError:
        return Undecodable("undecodable: not UTF-8", _case_id(key, None))
    try:
        recorded = decode_event(body)
    except ValidationError as exc:
        return Undecodable(f"undecodable: {describe_errors(exc)}", _case_id(key, body))
    return Decoded(upcast(recorded), recorded.schema_version, body)


def describe_errors(exc: ValidationError) -> str:
    """'missing at data.summary; ...' without the offending input."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False)[:5]:
        where = ".".join(str(part) for part in error["loc"]) or "message"
        problems.append(f"{error['type']} at {where}")
    return "; ".join(problems)


def _case_id(key: bytes | None, body: str | None) -> UUID | None:
    """Messages are keyed by case id; failing that, a body may still carry one."""
    for candidate in (_text(key), _case_id_in(body)):
        try:
            return UUID(candidate)
        except (TypeError, ValueError):
            continue
    return None


def _text(key: bytes | None) -> str | None:
    try:
        return key.decode("ascii") if key else None
    except UnicodeDecodeError:
        return None


def _case_id_in(body: str | None) -> str | None:
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        return None
    value = parsed.get("case_id") if isinstance(parsed, dict) else None
    return value if isinstance(value, str) else None
