"""Notify against the real broker and databases: deadlines explained, alerts raised once each,
withdrawn when the answer comes, and nothing raised twice across restarts or redeliveries."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from contracts import decode_event, encode_event
from tests.broker_support import on_every_broker
from tests.integration.notify_support import (
    LONG_OVERDUE,
    alerts,
    answer,
    assert_one_stream_per_case,
    kinds_raised,
    notify_log_settled,
    of_type,
    open_case,
    record,
    send_inquiry,
    until_applied,
)
from tests.support import eventually, read_topic, read_until, running

pytestmark = pytest.mark.integration


@pytest.fixture
def advocates(tmp_path):
    path = tmp_path / "advocates.toml"
    path.write_text('[[advocate]]\naccount = "caseworker-7"\n\n'
                    '[[advocate]]\naccount = "supervisor-1"\nrole = "supervisor"\n')
    return path


@on_every_broker()
async def test_an_unanswered_inquiry_is_explained_reminded_overdue_and_escalated_once_each(
    intake_app, start_notify, clock, kafka, topics, advocates
):
    async with running(intake_app) as intake, start_notify(advocates_file=advocates) as notify:
        case_id = await open_case(intake)
        await record(intake, f"/cases/{case_id}/assignment", {"assignee": "caseworker-7"})
        sent = await send_inquiry(intake, case_id)
        inquiry_id = sent["inquiry_id"]
        await notify_log_settled(kafka, topics, lambda e: of_type(e, "deadline_set"))
        deadline = (await notify.get(f"/inquiries/{inquiry_id}/deadline")).json()
        assert await alerts(notify, state="all") == []

        clock.now = datetime(2025, 3, 11, tzinfo=UTC)  # three days before the deadline
        await eventually(lambda: alerts(notify), until=lambda a: len(a) == 1)
        clock.now = datetime(2025, 3, 14, tzinfo=UTC)  # 2025-03-13 has ended
        await eventually(lambda: alerts(notify), until=lambda a: len(a) == 2)
        clock.now = datetime(2025, 3, 28, 9, tzinfo=UTC)  # 14 days overdue
        log = await notify_log_settled(
            kafka, topics, lambda e: "escalation" in kinds_raised(e))
        inbox = await alerts(notify, advocate="caseworker-7")
        supervisor = await alerts(notify, advocate="supervisor-1")

    assert deadline["explanation"] == (
        "due 2025-03-13: 20 business days after 2025-02-13, China calendar, policy embassy-v1")
    assert deadline["deadline"]["due_at"] == "2025-03-14T00:00:00Z"
    assert [e["type"] for e in log] == ["deadline_set"] + ["alert_raised"] * 3
    assert_one_stream_per_case(log)
    assert kinds_raised(log) == ["escalation", "overdue", "reminder"]
    assert [a["kind"] for a in inbox] == ["escalation", "overdue", "reminder"]
    assert [a["kind"] for a in supervisor] == ["escalation"]  # the case has an assignee
    overdue = decode_event(json.dumps(of_type(log, "alert_raised", kind="overdue")[0]))
    assert overdue.event_id == overdue.data.alert_id
    assert (overdue.occurred_at, overdue.actor) == ("2025-03-14T00:00:00Z", "notify")
    assert overdue.data.recipients == ["caseworker-7"]
    assert overdue.data.reason == "no answer to the inquiry due 2025-03-13"
    assert str(overdue.causation_id) == sent["event_id"]
    inquiry_sent = of_type(await read_topic(kafka, topics.case_events), "inquiry_sent")[0]
    assert str(overdue.correlation_id) == inquiry_sent["correlation_id"]
    escalation = of_type(log, "alert_raised", kind="escalation")[0]
    assert escalation["data"]["recipients"] == ["caseworker-7", "supervisor-1"]


async def test_an_answer_withdraws_the_open_alerts_of_its_inquiry_and_stops_the_rest(
    intake_app, start_notify, clock, kafka, topics
):
    async with running(intake_app) as intake, start_notify() as notify:
        case_id = await open_case(intake)
        inquiry_id = (await send_inquiry(intake, case_id))["inquiry_id"]
        clock.now = datetime(2025, 3, 11, tzinfo=UTC)
        await eventually(lambda: alerts(notify), until=lambda a: len(a) == 1)  # the reminder
        clock.now = datetime(2025, 3, 14, tzinfo=UTC)
        await eventually(lambda: alerts(notify), until=lambda a: len(a) == 2)  # and overdue
        await answer(intake, case_id, inquiry_id)
        log = await notify_log_settled(
            kafka, topics, lambda e: len(of_type(e, "alert_withdrawn")) == 2)
        clock.now = datetime(2025, 6, 1, tzinfo=UTC)  # long past any escalation
        log = await notify_log_settled(kafka, topics, lambda e: True)
        open_alerts = await alerts(notify)
        withdrawn = await alerts(notify, state="withdrawn")

    assert open_alerts == []
    assert sorted(a["kind"] for a in withdrawn) == ["overdue", "reminder"]
    assert {a["withdrawn_reason"] for a in withdrawn} == {"answered"}
    assert kinds_raised(log) == ["overdue", "reminder"]  # no escalation after the answer
    assert_one_stream_per_case(log)


async def test_an_inquiry_answered_or_withdrawn_before_its_deadline_never_alerts(
    intake_app, start_notify, clock, kafka, topics
):
    async with running(intake_app) as intake, start_notify() as notify:
        case_id = await open_case(intake)
        answered = (await send_inquiry(intake, case_id))["inquiry_id"]
        withdrawn = (await send_inquiry(intake, case_id))["inquiry_id"]
        await answer(intake, case_id, answered)
        await record(intake, f"/cases/{case_id}/inquiries/{withdrawn}/withdrawal",
                     {"reason": "Fictional: sent to the wrong consulate."})
        # Both reached notify before their deadlines did: only then does the clock move on (a
        # busy machine's relay could otherwise still be publishing them when it jumps).
        for inquiry_id, status in ((answered, "answered"), (withdrawn, "withdrawn")):
            await eventually(lambda i=inquiry_id: notify.get(f"/inquiries/{i}/deadline"),
                             until=lambda r, s=status: r.status_code == 200
                             and r.json()["status"] == s)
        clock.now = datetime(2025, 6, 1, tzinfo=UTC)
        sentinel = (await send_inquiry(intake, case_id, LONG_OVERDUE))["inquiry_id"]
        log = await notify_log_settled(kafka, topics,
                                       lambda e: "escalation" in kinds_raised(e, sentinel))
        listed = await alerts(notify)

    assert {a["inquiry_id"] for a in listed} == {sentinel}
    assert kinds_raised(log, answered) == kinds_raised(log, withdrawn) == []


@on_every_broker()
async def test_a_restarted_notify_raises_nothing_twice_and_catches_up_on_what_fell_due(
    intake_app, start_notify, clock, kafka, topics
):
    async with running(intake_app) as intake:
        async with start_notify() as notify:
            case_id = await open_case(intake)
            first = (await send_inquiry(intake, case_id))["inquiry_id"]
            clock.now = datetime(2025, 3, 11, tzinfo=UTC)
            await notify_log_settled(kafka, topics, lambda e: "reminder" in kinds_raised(e, first))
            clock.now = datetime(2025, 3, 14, tzinfo=UTC)
            before = await notify_log_settled(kafka, topics,
                                              lambda e: "overdue" in kinds_raised(e, first))
        # notify is down: another inquiry is sent, and everything passes its escalation
        second = (await send_inquiry(intake, case_id))["inquiry_id"]
        clock.now = datetime(2025, 5, 1, tzinfo=UTC)
        async with start_notify() as notify:
            after = await notify_log_settled(
                kafka, topics, lambda e: "escalation" in kinds_raised(e, second))
            listed = await alerts(notify, state="all")

    assert kinds_raised(before, first) == ["overdue", "reminder"]
    assert kinds_raised(after, first) == ["escalation", "overdue", "reminder"]
    # the reminder of the second fell due after its deadline had passed: it is not sent late
    assert kinds_raised(after, second) == ["escalation", "overdue"]
    assert len(listed) == 5
    assert_one_stream_per_case(after)


async def test_an_answer_recorded_while_notify_was_down_is_seen_before_the_deadline_is_judged(
    intake_app, start_notify, clock, kafka, topics
):
    async with running(intake_app) as intake:
        async with start_notify():
            case_id = await open_case(intake)
            inquiry_id = (await send_inquiry(intake, case_id))["inquiry_id"]
            await notify_log_settled(kafka, topics, lambda e: of_type(e, "deadline_set"))
        await answer(intake, case_id, inquiry_id)
        clock.now = datetime(2025, 6, 1, tzinfo=UTC)
        async with start_notify():
            sentinel = (await send_inquiry(intake, case_id, LONG_OVERDUE))["inquiry_id"]
            log = await notify_log_settled(kafka, topics,
                                           lambda e: "overdue" in kinds_raised(e, sentinel))

    assert kinds_raised(log, inquiry_id) == []


async def test_a_redelivered_case_event_changes_nothing(
    intake_app, start_notify, notify_db, clock, kafka, topics
):
    async with running(intake_app) as intake, start_notify() as notify:
        case_id = await open_case(intake)
        inquiry_id = (await send_inquiry(intake, case_id))["inquiry_id"]
        case_log = await read_until(kafka, topics.case_events,
                                    lambda m: any(e["type"] == "inquiry_sent" for e in m))
        copy = encode_event(decode_event(json.dumps(of_type(case_log, "inquiry_sent")[0])))
        await publish_raw(kafka, topics.case_events, case_id, copy)
        # a later event of the same case (same partition) shows the consumer got past the copy
        later = await record(intake, f"/cases/{case_id}/notes", {"text": "Fictional note."})
        await until_applied(notify_db, later["event_id"])
        clock.now = datetime(2025, 3, 14, tzinfo=UTC)
        log = await notify_log_settled(kafka, topics, lambda e: "overdue" in kinds_raised(e))
        listed = await alerts(notify)

    assert len(of_type(log, "deadline_set")) == 1
    assert kinds_raised(log, inquiry_id) == ["overdue"]
    assert len(listed) == 1


async def test_health_readiness_and_metrics(intake_app, start_notify, kafka, topics):
    async with running(intake_app) as intake, start_notify() as notify:
        assert (await notify.get("/healthz")).status_code == 200
        ready = await eventually(lambda: notify.get("/readyz"),
                                 until=lambda r: r.json()["checks"]["caught_up"])
        await send_inquiry(intake, await open_case(intake), LONG_OVERDUE)
        await notify_log_settled(kafka, topics, lambda e: "escalation" in kinds_raised(e))
        metrics = (await notify.get("/metrics")).text

    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "broker": True, "caught_up": True,
                                      "revocations": True}
    assert 'notify_events_recorded_total{type="alert_raised"} 2.0' in metrics
    assert 'notify_events_recorded_total{type="deadline_set"} 1.0' in metrics
    assert "notify_events_unpublished 0.0" in metrics
    assert "notify_timers_due 0.0" in metrics
    assert "notify_scheduler_tick_seconds_count" in metrics


async def publish_raw(kafka: str, topic: str, case_id: str, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=case_id.encode())
    finally:
        await producer.stop()


async def test_a_message_notify_cannot_read_is_dead_lettered_and_the_rest_goes_on(
    intake_app, start_notify, notify_settings, clock, kafka, topics
):
    async with running(intake_app) as intake, start_notify() as notify:
        case_id = await open_case(intake)
        poison = json.dumps({"type": "inquiry_sent", "case_id": case_id,
                             "data": {"recipient": {"name": "Fictional Secret Name"}}}).encode()
        await publish_raw(kafka, topics.case_events, case_id, poison)
        await send_inquiry(intake, case_id, LONG_OVERDUE)  # same case, same partition: after it
        await eventually(lambda: alerts(notify), until=lambda a: len(a) == 2)
        letters = await read_raw(kafka, notify_settings.dead_letter_topic)

    [letter] = letters
    assert letter.value == poison
    headers = {k: v.decode() for k, v in letter.headers}
    assert headers["dead-letter-stage"] == "decode"
    assert headers["original-topic"] == topics.case_events
    assert "Fictional Secret Name" not in headers["dead-letter-reason"]
    assert headers["dead-letter-reason"].startswith("undecodable: ")


async def read_raw(kafka: str, topic: str):
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        batch = await consumer.getmany(timeout_ms=2000)
        return [record for records in batch.values() for record in records]
    finally:
        await consumer.stop()
