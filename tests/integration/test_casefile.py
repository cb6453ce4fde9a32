"""Casefile against the real broker and databases: intake writes the log, casefile folds it."""

from __future__ import annotations

from contracts.chain import seal
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from contracts import InquiryOverdue, encode_event
from contracts.events import InquiryOverdueData
from services.casefile.app import create_app as create_casefile
from services.casefile.checksum import read_model_checksum
from services.casefile.config import Settings as CasefileSettings
from services.casefile.rebuild import rebuild
from services.casefile.store import make_engine
from services.intake.app import create_app as create_intake
from services.intake.config import Settings as IntakeSettings
from tests.support import FakeClock, Topics, eventually, read_topic, running

pytestmark = pytest.mark.integration

REPORT = {
    "subject": {"name": "Гүлнар Төлеуова"},
    "reporter": {"name": "Fictional Daughter", "relationship": "daughter"},
    "summary": "Fictional demo: detained at a checkpoint, family not informed.",
}
EMBASSY = {"name": "Fictional Embassy in Astana", "kind": "embassy", "country": "cn"}
COUNTS = ("inquiries_open", "inquiries_overdue", "inquiries_answered")


@pytest.fixture
def intake_app(kafka, topics, database_url):
    settings = IntakeSettings(
        kafka_bootstrap_servers=kafka, case_events_topic=topics.case_events,
        database_url=database_url("intake"),
    )
    return create_intake(settings, clock=FakeClock())


@pytest.fixture
def casefile_settings(kafka, topics, database_url) -> CasefileSettings:
    return CasefileSettings(
        kafka_bootstrap_servers=kafka,
        case_events_topic=topics.case_events,
        alert_events_topic=topics.alert_events,
        database_url=database_url("casefile"),
        consumer_group=f"casefile-{topics.case_events}",  # groups never span tests
        kafka_session_timeout_ms=3000,  # bounds how long a restart waits to rejoin the group
        kafka_heartbeat_interval_ms=300,
    )


async def publish(kafka: str, topic: str, messages: list[bytes], *, key: str) -> None:
    """Publish as notify would: keyed by case id, acknowledged by the log."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        for message in messages:
            await producer.send_and_wait(topic, message, key=key.encode())
    finally:
        await producer.stop()


async def committed_total(kafka: str, group: str, topics: Topics) -> int:
    """Messages a consumer group has committed on both topics (offsets start at 0).

    Asked through a group-less-subscription consumer: Tansu's answer to the admin client's
    OffsetFetch does not decode in aiokafka.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()
        total = 0
        for topic in (topics.case_events, topics.alert_events):
            for partition in consumer.partitions_for_topic(topic) or ():
                total += await consumer.committed(TopicPartition(topic, partition)) or 0
        return total
    finally:
        await consumer.stop()


async def log_size(kafka: str, topics: Topics) -> int:
    return sum([len(await read_topic(kafka, t)) for t in (topics.case_events, topics.alert_events)])


def checksum_of(database_url: str) -> str:
    engine = make_engine(database_url)
    try:
        return read_model_checksum(engine)
    finally:
        engine.dispose()


async def open_case(intake) -> str:
    opened = await intake.post("/cases", json=REPORT)
    assert opened.status_code == 201, opened.text
    return opened.json()["case_id"]


async def send_inquiry(intake, case_id: str, sent_at: str = "2025-02-10") -> str:
    sent = await intake.post(f"/cases/{case_id}/inquiries",
                             json={"recipient": EMBASSY, "channel": "letter", "sent_at": sent_at})
    assert sent.status_code == 201, sent.text
    return sent.json()["inquiry_id"]


async def answer(intake, case_id: str, inquiry_id: str) -> None:
    answered = await intake.post(
        f"/cases/{case_id}/inquiries/{inquiry_id}/responses",
        json={"received_at": "2025-02-20", "summary": "Fictional: no record."},
    )
    assert answered.status_code == 201, answered.text


def overdue_alert(case_id: str, inquiry_id: str) -> InquiryOverdue:
    due = datetime(2025, 2, 24, tzinfo=UTC)
    return seal(
        InquiryOverdue, prev_hash=None, event_id=uuid4(), case_id=UUID(case_id), sequence=1, occurred_at="2025-02-24T00:00:00Z",
        recorded_at=datetime(2025, 2, 24, 0, 5, tzinfo=UTC), actor="notify",
        correlation_id=uuid4(),
        data=InquiryOverdueData(inquiry_id=UUID(inquiry_id), due_at=due,
                                detected_at=datetime(2025, 2, 24, 0, 5, tzinfo=UTC)),
    )


async def timeline_of(casefile, case_id: str) -> list[dict]:
    response = await casefile.get(f"/cases/{case_id}/timeline")
    return response.json() if response.status_code == 200 else []


async def case_of(casefile, case_id: str) -> dict:
    return (await casefile.get(f"/cases/{case_id}")).json()


async def test_a_case_shows_in_the_timeline_in_the_order_things_happened(
    intake_app, casefile_settings, capsys
):
    casefile_app = create_casefile(casefile_settings)
    async with running(intake_app) as intake, running(casefile_app) as casefile:
        case_id = await open_case(intake)  # reported "now": 2025-03-01T09:00:00Z
        lost = await intake.post(f"/cases/{case_id}/contact-lost",
                                 json={"last_contact_at": "2017-05", "circumstances": "Fictional."})
        assert lost.status_code == 201
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

    assert [(e["type"], e["occurred_at"], e["sequence"]) for e in timeline] == [
        ("contact_lost", "2017-05", 2),
        ("inquiry_sent", "2025-02-10", 3),
        ("official_response_received", "2025-02-20", 4),
        ("report_received", "2025-03-01T09:00:00Z", 1),
    ]
    assert timeline[0]["data"]["last_contact"]["at"] == "2017-05"
    assert timeline[3]["actor"] == "unauthenticated" and timeline[3]["recorded_at"].endswith("Z")
    assert case["status"] == "open" and case["subject_name"] == REPORT["subject"]["name"]
    assert (case["opened_at"], case["last_contact_at"], case["last_sequence"]) == (
        "2025-03-01T09:00:00Z", "2017-05", 4)
    assert [case[c] for c in COUNTS] == [0, 0, 1]
    assert [(i["inquiry_id"], i["state"], i["answered_at"], i["recipient_country"])
            for i in case["inquiries"]] == [(inquiry_id, "answered", "2025-02-20", "CN")]
    assert listed.headers["X-Total-Count"] == "1"
    assert [c["case_id"] for c in listed.json()] == [case_id]
    assert missing_case.status_code == 404 and str(unknown) in missing_case.json()["detail"]
    assert missing_timeline.status_code == 404
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": True, "broker": True}
    logs = capsys.readouterr().err
    assert case_id in logs and REPORT["subject"]["name"] not in logs and "checkpoint" not in logs


async def test_an_overdue_alert_marks_the_inquiry_and_a_redelivery_changes_nothing(
    intake_app, casefile_settings, kafka, topics
):
    casefile_app = create_casefile(casefile_settings)
    group = casefile_settings.consumer_group
    async with running(intake_app) as intake, running(casefile_app) as casefile:
        case_id = await open_case(intake)
        inquiry_id = await send_inquiry(intake, case_id)
        alert = encode_event(overdue_alert(case_id, inquiry_id))
        await publish(kafka, topics.alert_events, [alert, alert], key=case_id)  # a redelivery

        await eventually(lambda: committed_total(kafka, group, topics), until=lambda n: n == 4)
        overdue_case = await case_of(casefile, case_id)
        overdue_timeline = await timeline_of(casefile, case_id)

        await answer(intake, case_id, inquiry_id)
        await eventually(lambda: timeline_of(casefile, case_id), until=lambda t: len(t) == 4)
        answered_case = await case_of(casefile, case_id)

    assert [e["type"] for e in overdue_timeline] == [
        "inquiry_sent", "inquiry_overdue", "report_received"]
    assert overdue_case["inquiries"][0]["state"] == "overdue"
    assert overdue_case["inquiries"][0]["due_at"] == "2025-02-24T00:00:00.000000Z"
    assert [overdue_case[c] for c in COUNTS] == [1, 1, 0]
    assert answered_case["inquiries"][0]["state"] == "answered"
    assert [answered_case[c] for c in COUNTS] == [0, 0, 1]


async def test_rebuilding_from_the_log_gives_exactly_the_live_read_models(
    intake_app, casefile_settings, kafka, topics, database_url
):
    casefile_app = create_casefile(casefile_settings)
    async with running(intake_app) as intake, running(casefile_app) as casefile:
        case_id = await open_case(intake)
        await intake.post(f"/cases/{case_id}/contact-lost",
                          json={"last_contact_at": "2016-11-03", "circumstances": "Fictional."})
        answered = await send_inquiry(intake, case_id, "2025-01-05")
        unanswered = await send_inquiry(intake, case_id, "2025-02-01")
        await answer(intake, case_id, answered)
        alert = encode_event(overdue_alert(case_id, unanswered))
        await publish(kafka, topics.alert_events, [alert, alert], key=case_id)  # and a redelivery
        stray_case = str(uuid4())  # an alert whose report never reached the log
        await publish(kafka, topics.alert_events,
                      [encode_event(overdue_alert(stray_case, str(uuid4())))], key=stray_case)
        total = await log_size(kafka, topics)
        await eventually(lambda: committed_total(kafka, casefile_settings.consumer_group, topics),
                         until=lambda n: n == total)
        listed = (await casefile.get("/cases")).json()
        second_page = (await casefile.get("/cases", params={"limit": 1, "offset": 1})).json()

    live = checksum_of(casefile_settings.database_url)
    replay = casefile_settings.model_copy(update={"database_url": database_url("replay")})
    fresh = await rebuild(replay)
    again = await rebuild(casefile_settings)  # drop and replay the live database itself

    assert total == 8
    # The stray alert is kept: its case is listed (after reported ones), awaiting its report.
    assert [c["case_id"] for c in listed] == [case_id, stray_case]
    stray = listed[1]
    assert second_page == [stray]
    assert (stray["status"], stray["subject_name"], stray["inquiries_overdue"]) == (
        "awaiting_report", None, 1)
    assert (fresh.messages_read, fresh.events_applied) == (8, 7)
    assert fresh.checksum == live
    assert again.checksum == live


async def test_a_restarted_casefile_applies_nothing_twice(
    intake_app, casefile_settings, kafka, topics
):
    def checksum() -> str:
        return checksum_of(casefile_settings.database_url)

    group = casefile_settings.consumer_group
    async with running(intake_app) as intake:
        async with running(create_casefile(casefile_settings)):
            case_id = await open_case(intake)
            inquiry_id = await send_inquiry(intake, case_id)
            await publish(kafka, topics.alert_events,
                          [encode_event(overdue_alert(case_id, inquiry_id))], key=case_id)
            await eventually(lambda: committed_total(kafka, group, topics), until=lambda n: n == 3)

        # Same group: resumes after its committed offsets.
        async with running(create_casefile(casefile_settings)) as casefile:
            await answer(intake, case_id, inquiry_id)
            timeline = await eventually(lambda: timeline_of(casefile, case_id),
                                        until=lambda t: len(t) == 4)
            case = await case_of(casefile, case_id)
        after_restart = checksum()

    # A new group (offsets lost) re-reads the whole log: every event is a duplicate by then.
    reread = casefile_settings.model_copy(update={"consumer_group": f"{group}-reread"})
    async with running(create_casefile(reread)):
        await eventually(lambda: committed_total(kafka, reread.consumer_group, topics),
                         until=lambda n: n == 4)

    assert sorted(e["type"] for e in timeline) == [
        "inquiry_overdue", "inquiry_sent", "official_response_received", "report_received"]
    assert len({e["event_id"] for e in timeline}) == 4
    assert [case[c] for c in COUNTS] == [0, 0, 1]
    assert checksum() == after_restart


async def test_an_undecodable_message_is_retried_not_skipped(kafka, topics, tmp_path, capsys):
    settings = CasefileSettings(
        kafka_bootstrap_servers=kafka, case_events_topic=topics.case_events,
        alert_events_topic=topics.alert_events, database_url=f"sqlite:///{tmp_path}/casefile.db",
        consumer_group=f"casefile-{topics.case_events}",
        kafka_session_timeout_ms=3000, kafka_heartbeat_interval_ms=300,
    )
    case_id = str(uuid4())
    garbage = b'{"type": "report_received", "subject": "Fictional Poison Name"}'
    valid_after_it = encode_event(overdue_alert(case_id, str(uuid4())))
    await publish(kafka, topics.alert_events, [garbage, valid_after_it], key=case_id)
    logs: list[str] = []

    async def attempts() -> int:
        logs.append(capsys.readouterr().err)
        return "".join(logs).count('"event_undecodable"')

    async with running(create_casefile(settings)) as casefile:
        await eventually(attempts, until=lambda n: n >= 2)
        held_back = await casefile.get(f"/cases/{case_id}")
        committed = await committed_total(kafka, settings.consumer_group, topics)

    assert held_back.status_code == 404  # the event behind the bad message waits; nothing skipped
    assert committed == 0
    assert "Fictional Poison Name" not in "".join(logs) + capsys.readouterr().err
