"""Notify against the real broker and databases: every unanswered inquiry alerts exactly once.

Intake and notify run in-process on the same topics and share one fake clock, so "thirty days
later" is a call to `clock.advance`. Data is fictional.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from sqlmodel import Session, func, select

from contracts import decode_event, encode_event
from services.notify import store
from services.notify.app import create_app as create_notify
from services.notify.config import Settings
from services.notify.deadlines import overdue_event_id
from tests.support import eventually, read_topic, read_until, running

pytestmark = pytest.mark.integration

TICK = 0.05
SETTLE = 40 * TICK  # long enough for any second alert to have appeared

REPORT = {
    "subject": {"name": "Fictional Person"},
    "reporter": {"name": "Fictional Relative", "relationship": "sister"},
    "summary": "Fictional demo case.",
}
# Sent on 2025-02-20 (day precision): with 30 policy days it is due 2025-03-22T23:59:59.999999Z.
INQUIRY = {
    "recipient": {"name": "Fictional Embassy", "kind": "embassy", "country": "CN"},
    "channel": "letter",
    "sent_at": "2025-02-20",
}
# Already overdue when sent: its alert proves the scheduler is judging deadlines.
SENTINEL = {**INQUIRY, "sent_at": "2025-02-01", "due_at": "2025-02-02T00:00:00Z"}


@pytest.fixture
def notify_settings(kafka, topics, database_url) -> Settings:
    return Settings(
        kafka_bootstrap_servers=kafka,
        case_events_topic=topics.case_events,
        alert_events_topic=topics.alert_events,
        database_url=database_url("notify"),
        consumer_group=f"notify-{uuid.uuid4().hex[:8]}",
        scheduler_interval_seconds=TICK,
        # Tansu hands a restarted consumer its partitions only once the old session expired.
        kafka_session_timeout_ms=1_500,
        kafka_heartbeat_interval_ms=300,
    )


@pytest.fixture
def start_notify(notify_settings, clock):
    """Start a fresh notify app (a new process, as far as it can tell) on the same DB and topics."""
    return lambda: running(create_notify(notify_settings, clock=clock))


@pytest.fixture
def notify_db(notify_settings):
    engine = store.make_engine(notify_settings.database_url)
    yield engine
    engine.dispose()


async def open_case(intake) -> str:
    response = await intake.post("/cases", json=REPORT)
    assert response.status_code == 201, response.text
    return response.json()["case_id"]


async def send_inquiry(intake, case_id: str, body: dict = INQUIRY) -> dict:
    response = await intake.post(f"/cases/{case_id}/inquiries", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def alerts(notify, **params) -> list[dict]:
    response = await notify.get("/alerts", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def tracked(engine, inquiry_id: str) -> store.TrackedInquiry | None:
    with Session(engine) as session:
        return session.get(store.TrackedInquiry, uuid.UUID(inquiry_id))


async def until_tracked(engine, inquiry_id: str, *, answered: bool = False) -> None:
    async def probe():
        return tracked(engine, inquiry_id)

    await eventually(
        probe, until=lambda t: t is not None and (t.answered_at is not None) == answered
    )


async def overdue_on_log(kafka, topics, *, at_least: int) -> list[dict]:
    """Wait until `at_least` alerts are on the log, let the scheduler run on, then read it all."""
    await eventually(
        lambda: read_topic(kafka, topics.alert_events), until=lambda m: len(m) >= at_least
    )
    await asyncio.sleep(SETTLE)
    return await read_topic(kafka, topics.alert_events)


async def after_a_sentinel_alert(intake, notify, case_id: str, kafka, topics):
    """Send an inquiry that is overdue at once and wait for its alert: any alert that was going
    to be raised earlier has been by then. Returns (sentinel, alerts on the log, alerts listed)."""
    sentinel = await send_inquiry(intake, case_id, SENTINEL)
    await eventually(lambda: alerts(notify), until=lambda a: len(a) >= 1)
    return sentinel, await overdue_on_log(kafka, topics, at_least=1), await alerts(notify)


async def test_an_unanswered_inquiry_raises_exactly_one_overdue_alert(
    intake_app, start_notify, notify_db, clock, kafka, topics
):
    async with running(intake_app) as intake, start_notify() as notify:
        case_id = await open_case(intake)
        inquiry = await send_inquiry(intake, case_id)
        await until_tracked(notify_db, inquiry["inquiry_id"])
        clock.advance(days=21)  # 2025-03-22 09:00: due that day, but not yet
        await asyncio.sleep(SETTLE)
        assert await alerts(notify) == []

        detected = clock.advance(days=1)  # 2025-03-23 09:00: past due
        await eventually(lambda: alerts(notify), until=lambda a: len(a) == 1)
        on_log = await overdue_on_log(kafka, topics, at_least=1)
        listed = await alerts(notify)

    expected_id = str(overdue_event_id(uuid.UUID(inquiry["inquiry_id"])))
    assert [a["event_id"] for a in listed] == [expected_id]
    assert listed[0] | {"raised_at": None} == {
        "event_id": expected_id, "case_id": case_id, "inquiry_id": inquiry["inquiry_id"],
        "kind": "inquiry_overdue", "due_at": "2025-03-22T23:59:59.999999Z", "raised_at": None,
    }
    assert len(on_log) == 1
    event = decode_event(json.dumps(on_log[0]))
    assert event.type == "inquiry_overdue" and str(event.event_id) == expected_id
    assert (str(event.case_id), event.sequence, event.actor) == (case_id, 1, "notify")
    assert event.occurred_at == "2025-03-22T23:59:59.999999Z"
    assert event.data.detected_at == detected == event.recorded_at
    assert str(event.causation_id) == inquiry["event_id"]
    sent = [e for e in await read_topic(kafka, topics.case_events) if e["type"] == "inquiry_sent"]
    assert str(event.correlation_id) == sent[0]["correlation_id"]


async def test_a_restarted_notify_does_not_raise_the_alert_again(
    intake_app, start_notify, notify_db, clock, kafka, topics
):
    async with running(intake_app) as intake:
        async with start_notify() as notify:
            case_id = await open_case(intake)
            inquiry = await send_inquiry(intake, case_id)
            await until_tracked(notify_db, inquiry["inquiry_id"])
            clock.advance(days=30)
            await eventually(lambda: alerts(notify), until=lambda a: len(a) == 1)
            await overdue_on_log(kafka, topics, at_least=1)

        clock.advance(days=30)
        async with start_notify() as notify:
            sentinel = await send_inquiry(intake, await open_case(intake), SENTINEL)
            await eventually(lambda: alerts(notify), until=lambda a: len(a) == 2)
            on_log = await overdue_on_log(kafka, topics, at_least=2)
            listed = await alerts(notify)
            of_first_case = await alerts(notify, case_id=case_id)

    raised_for = sorted(a["inquiry_id"] for a in listed)
    assert raised_for == sorted([inquiry["inquiry_id"], sentinel["inquiry_id"]])
    assert sorted(e["data"]["inquiry_id"] for e in on_log) == raised_for
    assert [a["inquiry_id"] for a in of_first_case] == [inquiry["inquiry_id"]]


async def test_an_alert_is_raised_when_notify_comes_back_after_the_deadline_passed(
    intake_app, start_notify, notify_db, clock, kafka, topics
):
    async with running(intake_app) as intake:
        async with start_notify():
            case_id = await open_case(intake)
            tracked_before = await send_inquiry(intake, case_id)
            await until_tracked(notify_db, tracked_before["inquiry_id"])
        # notify is down: one more inquiry is sent, and both deadlines pass
        sent_while_down = await send_inquiry(intake, case_id)
        back_at = clock.advance(days=40)

        async with start_notify() as notify:
            listed = await eventually(lambda: alerts(notify), until=lambda a: len(a) == 2)
            on_log = await overdue_on_log(kafka, topics, at_least=2)

    assert sorted(a["inquiry_id"] for a in listed) == sorted(
        [tracked_before["inquiry_id"], sent_while_down["inquiry_id"]]
    )
    assert len(on_log) == 2 and sorted(e["sequence"] for e in on_log) == [1, 2]
    back_at_z = back_at.isoformat().replace("+00:00", "Z")
    assert {e["data"]["detected_at"] for e in on_log} == {back_at_z}


async def test_an_inquiry_answered_before_its_deadline_never_alerts(
    intake_app, start_notify, notify_db, clock, kafka, topics
):
    async with running(intake_app) as intake, start_notify() as notify:
        case_id = await open_case(intake)
        inquiry = await send_inquiry(intake, case_id)
        await until_tracked(notify_db, inquiry["inquiry_id"])
        await record_response(intake, case_id, inquiry["inquiry_id"])
        await until_tracked(notify_db, inquiry["inquiry_id"], answered=True)
        clock.advance(days=90)
        sentinel, on_log, listed = await after_a_sentinel_alert(intake, notify, case_id, kafka, topics)

    assert [a["inquiry_id"] for a in listed] == [sentinel["inquiry_id"]]
    assert [e["data"]["inquiry_id"] for e in on_log] == [sentinel["inquiry_id"]]


async def test_a_withdrawn_inquiry_never_alerts(
    intake_app, start_notify, notify_db, clock, kafka, topics
):
    async with running(intake_app) as intake, start_notify() as notify:
        case_id = await open_case(intake)
        inquiry = await send_inquiry(intake, case_id)
        await until_tracked(notify_db, inquiry["inquiry_id"])
        withdrawal = await intake.post(
            f"/cases/{case_id}/inquiries/{inquiry['inquiry_id']}/withdrawal",
            json={"reason": "Fictional: sent to the wrong consulate."},
        )
        assert withdrawal.status_code == 201, withdrawal.text
        await eventually(lambda: applied(notify_db, withdrawal.json()["event_id"]), until=bool)
        assert tracked(notify_db, inquiry["inquiry_id"]) is None  # its deadline no longer runs
        clock.advance(days=90)
        sentinel, on_log, listed = await after_a_sentinel_alert(intake, notify, case_id, kafka, topics)

    assert [a["inquiry_id"] for a in listed] == [sentinel["inquiry_id"]]
    assert [e["data"]["inquiry_id"] for e in on_log] == [sentinel["inquiry_id"]]


async def test_an_answer_recorded_while_notify_was_down_is_seen_before_the_deadline_is_judged(
    intake_app, start_notify, notify_db, clock, kafka, topics
):
    async with running(intake_app) as intake:
        async with start_notify():
            case_id = await open_case(intake)
            inquiry = await send_inquiry(intake, case_id)
            await until_tracked(notify_db, inquiry["inquiry_id"])
        await record_response(intake, case_id, inquiry["inquiry_id"])
        clock.advance(days=90)

        async with start_notify() as notify:
            sentinel, on_log, listed = await after_a_sentinel_alert(
                intake, notify, case_id, kafka, topics
            )

    assert [a["inquiry_id"] for a in listed] == [sentinel["inquiry_id"]]
    assert [e["data"]["inquiry_id"] for e in on_log] == [sentinel["inquiry_id"]]


async def test_a_redelivered_inquiry_is_tracked_once(
    intake_app, start_notify, notify_db, clock, kafka, topics
):
    async with running(intake_app) as intake, start_notify() as notify:
        case_id = await open_case(intake)
        inquiry = await send_inquiry(intake, case_id)
        # The outbox relay publishes asynchronously: wait for the inquiry to be on the log.
        case_log = await read_until(
            kafka, topics.case_events, lambda m: any(e["type"] == "inquiry_sent" for e in m)
        )
        sent = [e for e in case_log if e["type"] == "inquiry_sent"]
        # A redelivery: the same event, encoded exactly as intake encodes it.
        copy = encode_event(decode_event(json.dumps(sent[0])))
        await publish_raw(kafka, topics.case_events, case_id, copy)
        # A later event of the same case (same partition) shows the consumer got past the copy.
        second = await send_inquiry(intake, case_id)
        later = await record_response(intake, case_id, second["inquiry_id"])
        await eventually(lambda: applied(notify_db, later["event_id"]), until=bool)

        with Session(notify_db) as session:
            copies = session.exec(
                select(func.count()).select_from(store.TrackedInquiry)
                .where(store.TrackedInquiry.inquiry_id == uuid.UUID(inquiry["inquiry_id"]))
            ).one()
        assert copies == 1
        clock.advance(days=30)
        on_log = await overdue_on_log(kafka, topics, at_least=1)
        listed = await alerts(notify, case_id=case_id)

    assert [a["inquiry_id"] for a in listed] == [inquiry["inquiry_id"]]
    assert [e["data"]["inquiry_id"] for e in on_log] == [inquiry["inquiry_id"]]


async def test_health_and_readiness(start_notify):
    async with start_notify() as notify:
        assert (await notify.get("/healthz")).status_code == 200
        ready = await notify.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": True, "broker": True}


async def record_response(intake, case_id: str, inquiry_id: str) -> dict:
    response = await intake.post(
        f"/cases/{case_id}/inquiries/{inquiry_id}/responses",
        json={"received_at": "2025-03-01", "summary": "Fictional: no record of this person."},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def applied(engine, event_id: str) -> bool:
    with Session(engine) as session:
        return session.get(store.AppliedEvent, uuid.UUID(event_id)) is not None


async def publish_raw(kafka: str, topic: str, case_id: str, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=case_id.encode())
    finally:
        await producer.stop()
