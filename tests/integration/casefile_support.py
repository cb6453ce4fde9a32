"""What the casefile integration tests do again and again: record through intake, publish raw
messages as another producer would, and wait until casefile has applied the whole log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from uuid import UUID, uuid4

from aiokafka import AIOKafkaProducer

from contracts import InquiryOverdue
from contracts.chain import seal
from contracts.events import InquiryOverdueData
from services.casefile.app import create_app as create_casefile
from services.casefile.checksum import read_model_checksum
from services.casefile.log_reader import read_log
from services.casefile.store import make_engine
from tests.support import CASEWORKER, Identity, Topics, eventually, running

REPORT = {
    "subject": {"name": "Гүлнар Төлеуова"},
    "reporter": {"name": "Fictional Daughter", "relationship": "daughter"},
    "summary": "Fictional demo: detained at a checkpoint, family not informed.",
}
EMBASSY = {"name": "Fictional Embassy in Astana", "kind": "embassy", "country": "cn"}
COUNTS = ("inquiries_open", "inquiries_overdue", "inquiries_answered")


async def publish(
    kafka: str, topic: str, messages: list[bytes], *, key: str, partition: int | None = None
) -> None:
    """Publish as another producer would: keyed by case (on the partition the default
    partitioner picks, unless told), acknowledged by the log."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        for message in messages:
            await producer.send_and_wait(topic, message, key=key.encode(), partition=partition)
    finally:
        await producer.stop()


@asynccontextmanager
async def intake_and_casefile(
    intake_app, settings, *, reader: Identity = CASEWORKER, **options
) -> AsyncIterator[tuple]:
    """Both services running in-process on the same topics: (intake, casefile) HTTP clients,
    intake's as a caseworker, casefile's as `reader`."""
    async with running(intake_app) as intake:
        async with running(create_casefile(settings, **options), as_=reader) as casefile:
            yield intake, casefile


async def log_size(kafka: str, topics: Topics) -> int:
    """Messages on both topics, readable or not."""
    batches = read_log(kafka, [topics.case_events, topics.alert_events])
    return sum([len(batch) async for batch in batches])


async def applied_offsets(casefile) -> int:
    """How many messages casefile has applied (or dead-lettered), from /readyz."""
    partitions = (await casefile.get("/readyz")).json()["consumer"]["partitions"]
    return sum(p["last_applied_offset"] + 1 for p in partitions
               if p["last_applied_offset"] is not None)


async def until_caught_up(casefile, kafka: str, topics: Topics, *, intake=None) -> int:
    """Wait until casefile has applied every message on both topics; returns how many.

    With `intake`, first until intake's outbox is empty: a 201 comes before the relay has
    published the event, so until then the log is not yet all that was recorded.
    """
    if intake is not None:
        await eventually(lambda: _outbox_backlog(intake), until=lambda n: n == 0)
    total = await log_size(kafka, topics)
    await eventually(lambda: applied_offsets(casefile), until=lambda n: n >= total)
    return total


async def until_accesses_folded(casefile, kafka: str, topics: Topics) -> int:
    """Wait until every read casefile recorded is on access-events and folded into the audit;
    returns how many messages access-events holds."""
    await eventually(lambda: _accesses(casefile), until=lambda a: a["outbox_backlog"] == 0)
    on_log = sum([len(batch) async for batch in read_log(kafka, [topics.access_events])])

    async def folded() -> int:
        return sum(p["last_applied_offset"] + 1 for p in (await _accesses(casefile))["partitions"]
                   if p["last_applied_offset"] is not None)

    await eventually(folded, until=lambda n: n >= on_log)
    return on_log


async def _accesses(casefile) -> dict:
    return (await casefile.get("/readyz")).json()["accesses"]


async def _outbox_backlog(intake) -> int | None:
    return (await intake.get("/readyz")).json()["checks"]["outbox_backlog"]


def checksum_of(database_url: str) -> str:
    engine = make_engine(database_url)
    try:
        return read_model_checksum(engine)
    finally:
        engine.dispose()


async def open_case(intake, report: dict = REPORT, **headers: str) -> str:
    opened = await intake.post("/cases", json=report, headers=headers)
    assert opened.status_code == 201, opened.text
    return opened.json()["case_id"]


async def record(intake, path: str, body: dict) -> dict:
    answer = await intake.post(path, json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def send_inquiry(intake, case_id: str, sent_at: str = "2025-02-10", recipient=EMBASSY,
                       **extra) -> str:
    sent = await record(intake, f"/cases/{case_id}/inquiries",
                        {"recipient": recipient, "channel": "letter", "sent_at": sent_at, **extra})
    return sent["inquiry_id"]


async def answer(intake, case_id: str, inquiry_id: str, received_at: str = "2025-02-20") -> None:
    await record(intake, f"/cases/{case_id}/inquiries/{inquiry_id}/responses",
                 {"received_at": received_at, "summary": "Fictional: no record."})


def overdue_alert(case_id: str, inquiry_id: str, *, sequence: int = 1,
                  prev_hash: str | None = None) -> InquiryOverdue:
    """notify's alert, as notify would chain it in its own stream of the case."""
    due = datetime(2025, 2, 24, tzinfo=UTC)
    detected = datetime(2025, 2, 24, 0, 5, tzinfo=UTC)
    return seal(
        InquiryOverdue, prev_hash=prev_hash, event_id=uuid4(), case_id=UUID(case_id),
        sequence=sequence, occurred_at="2025-02-24T00:00:00Z", recorded_at=detected,
        actor="notify", correlation_id=uuid4(),
        data=InquiryOverdueData(inquiry_id=UUID(inquiry_id), due_at=due, detected_at=detected),
    )


async def timeline_of(casefile, case_id: str, **params) -> list[dict]:
    response = await casefile.get(f"/cases/{case_id}/timeline", params=params)
    return response.json() if response.status_code == 200 else []


async def case_of(casefile, case_id: str, **params) -> dict:
    return (await casefile.get(f"/cases/{case_id}", params=params)).json()
