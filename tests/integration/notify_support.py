"""What notify's integration tests do through intake and notify, and read back from the log.

Intake and notify run in-process on the same topics and share one fake clock, so "thirty days
later" is a call to `clock.advance`. Every name and text is fictional.
"""

from __future__ import annotations

import asyncio
import uuid

from sqlmodel import Session

from services.notify import store
from tests.integration.conftest import NOTIFY_TICK
from tests.support import eventually, read_topic

SETTLE = 40 * NOTIFY_TICK  # long enough for any further event to have appeared

REPORT = {
    "subject": {"name": "Fictional Person"},
    "reporter": {"name": "Fictional Relative", "relationship": "sister"},
    "summary": "Fictional demo case.",
}
# Sent Thursday 2025-02-13 to an embassy of China: with the bundled embassy policy (20 Chinese
# working days) it is due at the end of 2025-03-13, reminded on 03-11, escalated on 03-28.
INQUIRY = {
    "recipient": {"name": "Fictional Embassy", "kind": "embassy", "country": "CN"},
    "channel": "letter",
    "sent_at": "2025-02-13",
}
# Overdue since long before the test's clock (2025-03-01): alerts at once.
LONG_OVERDUE = {**INQUIRY, "sent_at": "2025-01-02", "due_at": "2025-01-10T00:00:00Z"}


async def open_case(intake) -> str:
    response = await intake.post("/cases", json=REPORT)
    assert response.status_code == 201, response.text
    return response.json()["case_id"]


async def record(intake, path: str, body: dict, *, expect: int = 201) -> dict:
    response = await intake.post(path, json=body)
    assert response.status_code == expect, response.text
    return response.json()


async def send_inquiry(intake, case_id: str, body: dict = INQUIRY) -> dict:
    return await record(intake, f"/cases/{case_id}/inquiries", body)


async def answer(intake, case_id: str, inquiry_id: str) -> dict:
    return await record(intake, f"/cases/{case_id}/inquiries/{inquiry_id}/responses",
                        {"received_at": "2025-03-01", "summary": "Fictional: no record."})


async def alerts(notify, **params) -> list[dict]:
    response = await notify.get("/alerts", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def notify_log(kafka, topics) -> list[dict]:
    return await read_topic(kafka, topics.alert_events)


async def notify_log_settled(kafka, topics, until) -> list[dict]:
    """Wait until notify's events on the log satisfy `until`, let it run on, read them all."""
    await eventually(lambda: notify_log(kafka, topics), until=until, timeout=30)
    await asyncio.sleep(SETTLE)
    return await notify_log(kafka, topics)


def of_type(events: list[dict], type_: str, **data) -> list[dict]:
    return [e for e in events if e["type"] == type_
            and all(e["data"].get(k) == v for k, v in data.items())]


def kinds_raised(events: list[dict], inquiry_id: str | None = None) -> list[str]:
    return sorted(e["data"]["kind"] for e in of_type(events, "alert_raised")
                  if inquiry_id is None or e["data"]["inquiry_id"] == inquiry_id)


async def until_applied(engine, event_id: str) -> None:
    def applied() -> bool:
        with Session(engine) as session:
            return session.get(store.AppliedEvent, uuid.UUID(event_id)) is not None

    async def probe() -> bool:
        return applied()

    await eventually(probe, until=bool)


def assert_one_stream_per_case(events: list[dict]) -> None:
    """Notify's events of each case are numbered 1, 2, 3... with no gap and no repeat."""
    by_case: dict[str, list[int]] = {}
    for event in {e["event_id"]: e for e in events}.values():
        by_case.setdefault(event["case_id"], []).append(event["sequence"])
    for case_id, sequences in by_case.items():
        assert sorted(sequences) == list(range(1, len(sequences) + 1)), (case_id, sequences)
