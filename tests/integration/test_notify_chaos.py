"""Notify killed between deciding an alert and publishing it: no loss and no duplicate.

Real processes on a durable embedded broker (Tansu on SeaweedFS). The broker is stopped so the
decided alert cannot be published, notify is SIGKILLed with the alert in its outbox, then both
come back: the alert reaches the log once, with the bytes it was decided with.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from deploy.embedded import EmbeddedBroker, S3Ports
from deploy.processes import free_port
from deploy.topics import ensure_topics
from services.intake.app import create_app as create_intake
from services.intake.config import Settings as IntakeSettings
from services.notify import store
from tests.integration.notify_support import (
    INQUIRY,
    assert_one_stream_per_case,
    of_type,
    open_case,
    send_inquiry,
)
from tests.support import ServiceProcess, eventually, read_topic, read_until, running

pytestmark = pytest.mark.integration


def unpublished_alerts(database_url: str) -> list[store.OutboxEvent]:
    engine = store.make_engine(database_url)
    try:
        with Session(engine) as session:
            return list(session.exec(select(store.OutboxEvent).where(
                store.OutboxEvent.type == "alert_raised",
                store.OutboxEvent.published == False)))  # noqa: E712
    finally:
        engine.dispose()


async def test_notify_killed_between_deciding_and_publishing_loses_nothing_and_repeats_nothing(
    tmp_path, database_url
):
    broker = EmbeddedBroker(kafka_port=free_port(), durable=True, data_dir=tmp_path / "broker",
                            s3_ports=S3Ports.free())
    suffix = uuid.uuid4().hex[:8]
    case_topic, alert_topic = f"case-events-{suffix}", f"alert-events-{suffix}"
    notify_db = database_url("notify")
    with broker:
        kafka = broker.bootstrap_servers
        await ensure_topics(kafka, [case_topic, alert_topic])
        intake = create_intake(IntakeSettings(
            kafka_bootstrap_servers=kafka, case_events_topic=case_topic,
            database_url=database_url("intake"), relay_idle_poll_seconds=0.2))

        def notify() -> ServiceProcess:
            return ServiceProcess("notify", tmp_path, {
                "DATABASE_URL": notify_db, "KAFKA_BOOTSTRAP_SERVERS": kafka,
                "CASE_EVENTS_TOPIC": case_topic, "ALERT_EVENTS_TOPIC": alert_topic,
                "DEAD_LETTER_TOPIC": f"notify-dead-letters-{suffix}",
                "CONSUMER_GROUP": f"notify-{suffix}", "SCHEDULER_INTERVAL_SECONDS": "0.2",
                "KAFKA_SESSION_TIMEOUT_MS": "3000", "KAFKA_HEARTBEAT_INTERVAL_MS": "500"})

        first = notify()
        first.start()
        try:
            async with running(intake) as client:
                case_id = await open_case(client)
                now = datetime.now(UTC)  # notify runs on the real clock
                sent = await send_inquiry(client, case_id, {
                    **INQUIRY, "sent_at": now.isoformat(),
                    "due_at": (now + timedelta(seconds=8)).isoformat()})
                await read_until(kafka, alert_topic, lambda e: of_type(e, "deadline_set"))
            broker.stop_broker()  # nothing decided from now on can be published
            [decided] = await eventually(lambda: asyncio.to_thread(unpublished_alerts, notify_db),
                                         until=lambda rows: any(json.loads(r.body)["data"][
                                             "kind"] == "overdue" for r in rows), timeout=40)
        finally:
            first.kill()

        broker.start_broker()
        second = notify()
        second.start()
        try:
            log = await read_until(kafka, alert_topic, lambda e: of_type(e, "alert_raised",
                                                                         kind="overdue"),
                                   timeout=60)
            await asyncio.sleep(3)  # time for a second copy to appear, if one were coming
            log = await read_topic(kafka, alert_topic)
        finally:
            second.stop()

    overdue = of_type(log, "alert_raised", kind="overdue")
    assert len(overdue) == 1, "the decided alert must reach the log exactly once"
    assert overdue[0]["data"]["inquiry_id"] == sent["inquiry_id"]
    assert json.loads(decided.body) == overdue[0]  # the bytes it was decided with
    assert str(decided.event_id) == overdue[0]["event_id"]
    assert_one_stream_per_case(log)
