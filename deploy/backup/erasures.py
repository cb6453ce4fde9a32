"""The subjects the log says were erased: a key store restored from a backup older than an
erasure would otherwise hold that case's key again."""

from __future__ import annotations

import json
from uuid import UUID

from services.casefile.log_reader import read_log


def erased_case(value: bytes | None) -> UUID | None:
    """The case a message on case-events erases the subject of, if it is a `subject_erased`."""
    try:
        message = json.loads(value or b"")
        if isinstance(message, dict) and message.get("type") == "subject_erased":
            return UUID(str(message["case_id"]))
    except (ValueError, KeyError):
        pass  # not an erasure; whoever reads the log flags what it cannot read
    return None


async def erasures_on_log(bootstrap_servers: str, case_events_topic: str, *,
                          request_timeout_ms: int = 10_000, **client_options) -> set[UUID]:
    erased: set[UUID] = set()
    async for records in read_log(bootstrap_servers, [case_events_topic],
                                  request_timeout_ms=request_timeout_ms, **client_options):
        erased.update(case for record in records if (case := erased_case(record.value)))
    return erased
