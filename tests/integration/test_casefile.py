"""Casefile against the real broker and databases: intake writes the log, casefile folds it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from uuid import uuid4

import pytest
from aiokafka.partitioner import murmur2
from sqlalchemy import create_engine, inspect, text

from contracts import decode_event, encode_event
from services.casefile import store
from services.casefile.app import create_app as create_casefile
from services.casefile.rebuild import rebuild
from services.casefile.shards import plan
from tests.broker_support import on_every_broker
from tests.integration.casefile_support import (
    COUNTS,
    REPORT,
    answer,
    case_of,
    checksum_of,
    open_case,
    overdue_alert,
    publish,
    record,
    send_inquiry,
    timeline_of,
    until_accesses_folded,
    until_caught_up,
)
from tests.support import AUDITOR, eventually, read_topic, running

pytestmark = pytest.mark.integration


@on_every_broker()
async def test_a_case_shows_in_the_timeline_in_the_order_things_happened(
    intake_app, casefile_settings, capsys
):
    casefile_app = create_casefile(casefile_settings)
    async with running(intake_app) as intake, running(casefile_app) as casefile:
        case_id = await open_case(intake)  # reported "now": 2025-03-01T09:00:00Z
        await record(intake, f"/cases/{case_id}/contact-lost",
                     {"last_contact_at": "2017-05", "circumstances": "Fictional.",
                      "last_contact_place": "Fictional border post"})
        inquiry_id = await send_inquiry(intake, case_id)
        await answer(intake, case_id, inquiry_id)

        timeline = await eventually(
            lambda: timeline_of(casefile, case_id), until=lambda t: len(t) == 4
        )
        case = await case_of(casefile, case_id)
        listed = await casefile.get("/cases", params={"limit": 10})
        unknown = uuid4()
        missing_case = await casefile.get(f"/cases/{unknown}")
        missing_timeline = await casefile.get(f"/cases/{unknown}/timeline")
        ready = await casefile.get("/readyz")

    assert [(e["type"], e["occurred_at"], e["occurred_precision"], e["sequence"])
            for e in timeline] == [
        ("contact_lost", "2017-05", "month", 2),
        ("inquiry_sent", "2025-02-10", "day", 3),
        ("official_response_received", "2025-02-20", "day", 4),
        ("report_received", "2025-03-01T09:00:00Z", "instant", 1),
    ]
    assert timeline[0]["data"]["last_contact"] == {
        "at": "2017-05", "channel": None, "place": "Fictional border post"}
    assert timeline[3]["actor"] == "caseworker-7" and timeline[3]["recorded_at"].endswith("Z")
    assert case["status"] == "open" and case["subject"]["name"] == REPORT["subject"]["name"]
    assert (case["reporter"]["relationship"], case["summary"]) == ("daughter", REPORT["summary"])
    assert (case["opened_at"], case["last_contact_at"], case["last_sequence"]) == (
        "2025-03-01T09:00:00Z", "2017-05", 4)
    assert [case[c] for c in COUNTS] == [0, 0, 1]
    assert [(i["inquiry_id"], i["state"], i["answered_at"], i["recipient_country"],
             i["days_to_answer"]) for i in case["inquiries"]] == [
        (inquiry_id, "answered", "2025-02-20", "CN", 10)]
    assert listed.headers["X-Total-Count"] == "1"
    assert [c["case_id"] for c in listed.json()] == [case_id]
    assert missing_case.status_code == 404 and str(unknown) in missing_case.json()["detail"]
    assert missing_timeline.status_code == 404
    assert ready.status_code == 200 and ready.json()["checks"] == {
        "database": True, "broker": True, "revocations": True}
    logs = capsys.readouterr().err
    assert case_id in logs and REPORT["subject"]["name"] not in logs and "checkpoint" not in logs


@on_every_broker()
async def test_an_overdue_alert_marks_the_inquiry_and_a_redelivery_changes_nothing(
    intake_app, casefile_settings, kafka, topics
):
    casefile_app = create_casefile(casefile_settings)
    async with running(intake_app) as intake, running(casefile_app) as casefile:
        case_id = await open_case(intake)
        inquiry_id = await send_inquiry(intake, case_id)
        alert = encode_event(overdue_alert(case_id, inquiry_id))
        await publish(kafka, topics.alert_events, [alert, alert], key=case_id)  # a redelivery

        await until_caught_up(casefile, kafka, topics, intake=intake)
        overdue_case = await case_of(casefile, case_id)
        overdue_timeline = await timeline_of(casefile, case_id)

        await answer(intake, case_id, inquiry_id)
        await eventually(lambda: timeline_of(casefile, case_id), until=lambda t: len(t) == 4)
        answered_case = await case_of(casefile, case_id)
        metrics = (await casefile.get("/metrics")).text

    assert [(e["type"], e["stream"]) for e in overdue_timeline] == [
        ("inquiry_sent", "case"), ("inquiry_overdue", "alert"), ("report_received", "case")]
    assert overdue_case["inquiries"][0]["state"] == "overdue"
    assert overdue_case["inquiries"][0]["due_at"] == "2025-02-24T00:00:00.000000Z"
    assert [overdue_case[c] for c in COUNTS] == [1, 1, 0]
    assert answered_case["inquiries"][0]["state"] == "answered"
    assert [answered_case[c] for c in COUNTS] == [0, 0, 1]
    assert "casefile_events_duplicate_total 1.0" in metrics


async def test_rebuilding_from_the_log_gives_exactly_the_live_read_models(
    intake_app, casefile_settings, kafka, topics, database_url
):
    casefile_app = create_casefile(casefile_settings)
    # an auditor: the stray alert's case has no report, so no team a caseworker would share
    async with running(intake_app) as intake, running(casefile_app, as_=AUDITOR) as casefile:
        case_id = await open_case(intake)
        await record(intake, f"/cases/{case_id}/contact-lost",
                     {"last_contact_at": "2016-11-03", "circumstances": "Fictional."})
        answered = await send_inquiry(intake, case_id, "2025-01-05")
        unanswered = await send_inquiry(intake, case_id, "2025-02-01")
        await answer(intake, case_id, answered)
        await record(intake, f"/cases/{case_id}/assignment", {"assignee": "caseworker-7"})
        alert = encode_event(overdue_alert(case_id, unanswered))
        await publish(kafka, topics.alert_events, [alert, alert], key=case_id)  # and a redelivery
        # intake's events again, as a relay retry after a crash would publish them
        again = [m for m in await read_topic(kafka, topics.case_events) if m["sequence"] <= 2]
        await publish(kafka, topics.case_events, [_as_on_the_log(m) for m in again], key=case_id)
        stray_case = str(uuid4())  # an alert whose report never reached the log
        await publish(kafka, topics.alert_events,
                      [encode_event(overdue_alert(stray_case, str(uuid4())))], key=stray_case)
        total = await until_caught_up(casefile, kafka, topics, intake=intake)
        listed = (await casefile.get("/cases")).json()
        second_page = (await casefile.get("/cases", params={"limit": 1, "offset": 1})).json()

    live = checksum_of(casefile_settings.database_url)
    replay = casefile_settings.model_copy(update={"database_url": database_url("replay")})
    fresh = await rebuild(replay)
    sharded = await rebuild(replay, workers=2)  # two processes, each folding half the cases
    again_result = await rebuild(casefile_settings)  # drop and replay the live database itself
    command = rebuild_command(casefile_settings, database_url("command"))

    assert total == 11
    # The stray alert is kept: its case is listed (after reported ones), awaiting its report.
    assert [c["case_id"] for c in listed] == [case_id, stray_case]
    stray = listed[1]
    assert second_page == [stray]
    assert (stray["status"], stray["subject_name"], stray["inquiries_overdue"]) == (
        "awaiting_report", None, 1)
    assert (fresh.messages_read, fresh.events_applied, fresh.cases) == (11, 8, 2)
    assert fresh.checksum == live
    assert (sharded.messages_read, sharded.events_applied, sharded.cases) == (11, 8, 2)
    assert sharded.checksum == live
    assert again_result.checksum == live
    assert command.returncode == 0, command.stderr
    assert f"checksum:        {live}" in command.stdout
    assert "messages read:   11" in command.stdout and "replaying the log" in command.stderr


async def test_a_case_whose_alert_went_to_another_partition_is_rebuilt_in_one_process(
    intake_app, casefile_settings, kafka, topics, database_url
):
    """Shards read partitions by number, trusting both producers to leave the partition to the
    default partitioner. An alert put on a partition of another number gives two shards the
    same case: the rebuild notices and folds the log again in one process."""
    casefile_app = create_casefile(casefile_settings)
    async with running(intake_app) as intake, running(casefile_app) as casefile:
        case_id = await open_case(intake)
        inquiry_id = await send_inquiry(intake, case_id, "2025-02-01")
        alert = encode_event(overdue_alert(case_id, inquiry_id))
        await publish(kafka, topics.alert_events, [alert], key=case_id,
                      partition=_partition_of_another_shard(case_id))
        await until_caught_up(casefile, kafka, topics, intake=intake)
        overdue = await case_of(casefile, case_id)

    live = checksum_of(casefile_settings.database_url)
    replay = casefile_settings.model_copy(update={"database_url": database_url("replay")})
    sharded = await rebuild(replay, workers=2)

    assert overdue["inquiries"][0]["state"] == "overdue"
    assert (sharded.workers, sharded.messages_read, sharded.cases) == (1, 3, 1)
    assert sharded.checksum == live


def _partition_of_another_shard(case_id: str, partitions: int = 3) -> int:
    """An alert partition that the case's own partition number does not share a shard with."""
    key = case_id.encode()
    own = (murmur2(key) & 0x7FFFFFFF) % partitions  # where the default partitioner puts it
    plans = [plan({"case": partitions, "alert": partitions}, shard, 2) for shard in (0, 1)]

    def shard_taking(topic: str, number: int) -> int:
        return next(p.shard for p in plans
                    if (topic, number) in p.reads and p.takes(topic, number, key))

    return next(n for n in range(partitions)
                if shard_taking("alert", n) != shard_taking("case", own))


def rebuild_command(settings, database_url: str) -> subprocess.CompletedProcess:
    """`python -m services.casefile.rebuild` as an operator runs it, progress bar and all."""
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
           "CASE_EVENTS_TOPIC": settings.case_events_topic,
           "ALERT_EVENTS_TOPIC": settings.alert_events_topic,
           "ACCESS_EVENTS_TOPIC": settings.access_events_topic}
    return subprocess.run(
        [sys.executable, "-m", "services.casefile.rebuild", "--database-url", database_url],
        env=env, capture_output=True, text=True, timeout=120,
    )


def _as_on_the_log(message: dict) -> bytes:
    return encode_event(decode_event(json.dumps(message)))


@on_every_broker()
async def test_a_restarted_casefile_applies_nothing_twice(
    intake_app, casefile_settings, kafka, topics
):
    def checksum() -> str:
        return checksum_of(casefile_settings.database_url)

    async with running(intake_app) as intake:
        async with running(create_casefile(casefile_settings)) as casefile:
            case_id = await open_case(intake)
            inquiry_id = await send_inquiry(intake, case_id)
            await publish(kafka, topics.alert_events,
                          [encode_event(overdue_alert(case_id, inquiry_id))], key=case_id)
            await until_caught_up(casefile, kafka, topics, intake=intake)

        # Same group and database: resumes after the positions committed with the read models.
        async with running(create_casefile(casefile_settings)) as casefile:
            await answer(intake, case_id, inquiry_id)
            timeline = await eventually(lambda: timeline_of(casefile, case_id),
                                        until=lambda t: len(t) == 4)
            case = await case_of(casefile, case_id)
            metrics = (await casefile.get("/metrics")).text
        after_restart = checksum()

    # A new group (offsets lost) re-reads the whole log: every event is a duplicate by then.
    reread = casefile_settings.model_copy(update={"consumer_group": "another-group"})
    async with running(create_casefile(reread)) as casefile:
        await until_caught_up(casefile, kafka, topics)

    assert sorted(e["type"] for e in timeline) == [
        "inquiry_overdue", "inquiry_sent", "official_response_received", "report_received"]
    assert len({e["event_id"] for e in timeline}) == 4
    assert [case[c] for c in COUNTS] == [0, 0, 1]
    assert "casefile_events_duplicate_total 0.0" in metrics  # nothing was redelivered
    assert checksum() == after_restart


async def test_a_casefile_on_an_empty_database_replays_the_log_from_the_start(
    intake_app, casefile_settings, kafka, topics, database_url
):
    async with running(intake_app) as intake:
        async with running(create_casefile(casefile_settings)) as casefile:
            case_id = await open_case(intake)
            await send_inquiry(intake, case_id)
            await until_caught_up(casefile, kafka, topics, intake=intake)
        # The same consumer group has committed everything, but this database holds nothing.
        fresh = casefile_settings.model_copy(update={"database_url": database_url("fresh")})
        async with running(create_casefile(fresh)) as casefile:
            await until_caught_up(casefile, kafka, topics, intake=intake)
            case = await case_of(casefile, case_id)
        # That read is on access-events now: the first database folds it when it is back
        # (in a group of its own, not to wait for the last one's membership to expire).
        back = casefile_settings.model_copy(update={"consumer_group": "casefile-back"})
        async with running(create_casefile(back)) as casefile:
            await until_accesses_folded(casefile, kafka, topics)

    assert case["inquiries_open"] == 1
    assert checksum_of(fresh.database_url) == checksum_of(casefile_settings.database_url)


def test_read_models_of_an_older_shape_are_dropped_on_start_so_the_log_is_replayed(database_url):
    url = database_url("older")
    older = create_engine(url)
    with older.begin() as connection:  # casefile's tables as an earlier version left them
        connection.execute(text("CREATE TABLE case_summary (case_id VARCHAR(32) PRIMARY KEY)"))
        connection.execute(text("CREATE TABLE timeline_entry (event_id VARCHAR(32) PRIMARY KEY)"))
        connection.execute(text(f"INSERT INTO case_summary VALUES ('{uuid4().hex}')"))
    older.dispose()

    engine = store.make_engine(url)  # what casefile does when it starts
    try:
        tables = set(inspect(engine).get_table_names())
        columns = {c["name"] for c in inspect(engine).get_columns("case_summary")}
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT COUNT(*) FROM case_summary")).scalar_one()
        again = store.prepare(engine)
    finally:
        engine.dispose()

    assert "timeline_entry" not in tables and {"case_event", "consumer_position"} <= tables
    assert {"attention", "assignee", "last_contact_until"} <= columns
    assert rows == 0  # empty, with no positions: the consumer replays the log from offset 0
    assert again is False  # at the current version the read models are kept
