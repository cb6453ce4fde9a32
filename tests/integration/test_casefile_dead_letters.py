"""A message casefile cannot use goes to the dead-letter topic and flags its case; the
consumer carries on. Against the real broker and databases."""

from __future__ import annotations

from uuid import uuid4

import pytest

from contracts import encode_event
from services.casefile import projections
from services.casefile.app import create_app as create_casefile
from services.casefile.rebuild import rebuild
from tests.integration.casefile_support import (
    checksum_of,
    intake_and_casefile,
    open_case,
    overdue_alert,
    publish,
    until_caught_up,
)
from tests.support import AUDITOR, Topics, read_topic, running

pytestmark = pytest.mark.integration

POISON = b'{"type": "report_received", "subject": "Fictional Poison Name"}'


async def dead_letters(kafka: str, settings) -> list:
    """The dead-letter topic's messages with their headers, read raw."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [TopicPartition(settings.dead_letter_topic, p)
                      for p in consumer.partitions_for_topic(settings.dead_letter_topic) or ()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        batch = await consumer.getmany(timeout_ms=2000)
        return [record for records in batch.values() for record in records]
    finally:
        await consumer.stop()


async def test_an_undecodable_message_is_dead_lettered_and_its_case_flagged(
    casefile_settings, kafka, topics: Topics, database_url, capsys
):
    case_id, known_only_from_poison = str(uuid4()), str(uuid4())
    valid_after_it = encode_event(overdue_alert(case_id, str(uuid4())))
    await publish(kafka, topics.alert_events, [POISON, valid_after_it], key=case_id)
    await publish(kafka, topics.case_events, [b"\x00 not even text"], key=known_only_from_poison)

    async with running(create_casefile(casefile_settings), as_=AUDITOR) as casefile:
        await until_caught_up(casefile, kafka, topics)
        case = (await casefile.get(f"/cases/{case_id}")).json()
        only_poison = await casefile.get(f"/cases/{known_only_from_poison}")
        listed = (await casefile.get("/cases", params={"needs_attention": "true"})).json()
        attention = (await casefile.get("/attention")).json()
        metrics = (await casefile.get("/metrics")).text
    letters = await dead_letters(kafka, casefile_settings)
    live = checksum_of(casefile_settings.database_url)
    rebuilt = await rebuild(casefile_settings.model_copy(
        update={"database_url": database_url("replay")}))

    # the event behind the bad message was applied: nothing waits behind a poison message
    assert case["inquiries_overdue"] == 1
    assert {c["case_id"] for c in listed} == {case_id, known_only_from_poison}
    assert all(c["needs_attention"] for c in listed)
    # a case known only from an unreadable message is shown with it, not as missing
    assert only_poison.status_code == 200
    assert only_poison.json()["status"] == "awaiting_report"
    assert [a["stage"] for a in only_poison.json()["attention"]] == ["decode"]
    (problem,) = case["attention"]
    assert (problem["topic"], problem["offset"], problem["stage"]) == (
        topics.alert_events, 0, "decode")
    assert problem["reason"].startswith("undecodable: ") and "Fictional" not in problem["reason"]
    assert problem in attention and len(attention) == 2
    letter = next(letter for letter in letters if letter.value == POISON)
    headers = {k: v.decode() for k, v in letter.headers}
    assert letter.value == POISON and letter.key == case_id.encode()
    assert (headers["original-topic"], headers["original-offset"], headers["dead-letter-stage"],
            headers["case-id"]) == (topics.alert_events, "0", "decode", case_id)
    assert headers["dead-letter-reason"] == problem["reason"]
    assert 'casefile_messages_dead_lettered_total{stage="decode"} 2.0' in metrics
    # a rebuild meets the same message, flags the same case, and ends with the same read models
    assert (rebuilt.dead_lettered, rebuilt.checksum) == (2, live)
    assert "Fictional Poison Name" not in capsys.readouterr().err


async def test_an_event_that_keeps_failing_to_apply_is_dead_lettered_after_its_retries(
    intake_app, casefile_settings, kafka, topics, monkeypatch, capsys
):
    real_apply = projections.apply
    broken_type = "contact_lost"

    def apply_with_a_bug(case, inquiry, event, **kwargs):  # a projection bug for one event type
        if event.type == broken_type:
            raise KeyError("fault injected by the test")
        return real_apply(case, inquiry, event, **kwargs)

    monkeypatch.setattr(projections, "apply", apply_with_a_bug)
    async with intake_and_casefile(intake_app, casefile_settings) as (intake, casefile):
        case_id = await open_case(intake)
        await intake.post(f"/cases/{case_id}/contact-lost",
                          json={"last_contact_at": "2019", "circumstances": "Fictional."})
        await intake.post(f"/cases/{case_id}/assignment", json={"assignee": "caseworker-2"})
        await until_caught_up(casefile, kafka, topics, intake=intake)
        case = (await casefile.get(f"/cases/{case_id}")).json()
    logs = capsys.readouterr().err
    (letter,) = await dead_letters(kafka, casefile_settings)
    headers = {k: v.decode() for k, v in letter.headers}

    assert logs.count('"event_not_applied"') == casefile_settings.dead_letter_after_attempts
    assert case["assignee"] == "caseworker-2"  # the next event was applied
    assert case["last_contact_at"] is None
    assert [(a["stage"], a["reason"], a["offset"]) for a in case["attention"]] == [
        ("apply", "not applied: KeyError", 1)]
    assert headers["dead-letter-stage"] == "apply"
    assert headers["event-id"] == case["attention"][0]["event_id"]


async def test_consumer_progress_is_exposed_for_prometheus_and_readiness(
    intake_app, casefile_settings, kafka, topics
):
    async with intake_and_casefile(intake_app, casefile_settings) as (intake, casefile):
        for _ in range(3):
            await open_case(intake)
        total = await until_caught_up(casefile, kafka, topics, intake=intake)
        metrics = (await casefile.get("/metrics")).text
        ready = (await casefile.get("/readyz")).json()
    on_log = await read_topic(kafka, topics.case_events)

    assert total == 3 and len(on_log) == 3
    applied = [line for line in metrics.splitlines()
               if line.startswith("casefile_last_applied_offset{")]
    assert sum(float(line.rsplit(" ", 1)[1]) + 1 for line in applied) == 3
    assert all(f'topic="{topics.case_events}"' in line for line in applied)
    lags = [line for line in metrics.splitlines() if line.startswith("casefile_consumer_lag{")]
    assert lags and all(line.endswith(" 0.0") for line in lags)
    assert 'casefile_events_applied_total{type="report_received"} 3.0' in metrics
    assert ready["consumer"]["lag"] == 0
    assert sum(p["last_applied_offset"] + 1 for p in ready["consumer"]["partitions"]
               if p["last_applied_offset"] is not None) == 3
