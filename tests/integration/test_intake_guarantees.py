"""Intake's write-side guarantees against the real broker and both databases: idempotent
retries, optimistic concurrency, gap-free sequences and an unbroken hash chain on the log."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from contracts import decode_event
from contracts.chain import verify_chain
from services.intake.app import create_app
from services.intake.config import Settings
from tests.support import FakeClock, read_until, running

pytestmark = pytest.mark.integration

REPORT = {
    "subject": {"name": "Мирас Тестов (fictional)"},
    "reporter": {"name": "Fictional Aunt", "relationship": "aunt"},
    "summary": "Fictional: stopped answering calls after a trip.",
}
NOTE_LOST = {"last_contact_at": "2018-04", "circumstances": "Fictional: messages unread."}


@pytest.fixture
def intake_app(kafka, topics, database_url):
    settings = Settings(
        kafka_bootstrap_servers=kafka, case_events_topic=topics.case_events,
        database_url=database_url("intake"), relay_idle_poll_seconds=0.2,
    )
    return create_app(settings, clock=FakeClock())


def events_of(messages: list[dict], case_id: str) -> list[dict]:
    return [m for m in messages if m["case_id"] == case_id]


async def test_a_retried_command_with_the_same_key_records_one_event(intake_app, kafka, topics):
    key = {"Idempotency-Key": f"report-{uuid.uuid4()}"}
    async with running(intake_app) as intake:
        first = await intake.post("/cases", json=REPORT, headers=key)
        again = await intake.post("/cases", json=REPORT, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    on_log = await read_until(kafka, topics.case_events, lambda m: len(m) >= 1)
    assert [m["event_id"] for m in on_log] == [first.json()["event_id"]]


async def test_fifty_concurrent_retries_yield_one_response_and_one_event(intake_app, kafka, topics):
    async with running(intake_app) as intake:
        case_id = (await intake.post("/cases", json=REPORT)).json()["case_id"]
        key = {"Idempotency-Key": str(uuid.uuid4())}
        retries = await asyncio.gather(*(
            intake.post(f"/cases/{case_id}/contact-lost", json=NOTE_LOST, headers=key)
            for _ in range(50)
        ))
    assert {r.status_code for r in retries} == {201}
    assert len({r.json()["event_id"] for r in retries}) == 1
    await read_until(kafka, topics.case_events, lambda m: len(m) >= 2)
    await asyncio.sleep(0.5)  # a duplicate, if any, would have been published by now
    on_log = events_of(await read_until(kafka, topics.case_events, lambda m: len(m) >= 2), case_id)
    assert [m["type"] for m in on_log] == ["report_received", "contact_lost"]


async def test_the_same_key_with_a_different_body_is_refused_and_writes_nothing(intake_app):
    key = {"Idempotency-Key": "one-key"}
    async with running(intake_app) as intake:
        case_id = (await intake.post("/cases", json=REPORT)).json()["case_id"]
        first = await intake.post(f"/cases/{case_id}/contact-lost", json=NOTE_LOST, headers=key)
        other = {**NOTE_LOST, "last_contact_at": "2019"}
        reused = await intake.post(f"/cases/{case_id}/contact-lost", json=other, headers=key)
        third = await intake.post(f"/cases/{case_id}/contact-lost", json=NOTE_LOST)
    assert first.status_code == 201
    assert reused.status_code == 422
    assert reused.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert third.json()["sequence"] == 3  # the refused retry took no sequence number


async def test_a_command_based_on_a_stale_version_gets_409_with_the_current_version(intake_app):
    async with running(intake_app) as intake:
        opened = await intake.post("/cases", json=REPORT)
        case_id = opened.json()["case_id"]
        assert opened.headers["ETag"] == '"1"'
        ok = await intake.post(f"/cases/{case_id}/contact-lost", json=NOTE_LOST, headers={"If-Match": '"1"'})
        stale = await intake.post(f"/cases/{case_id}/contact-lost", json=NOTE_LOST, headers={"If-Match": '"1"'})
        stale_body = await intake.post(
            f"/cases/{case_id}/contact-lost", json={**NOTE_LOST, "expected_version": 1}
        )
        current = await intake.post(
            f"/cases/{case_id}/contact-lost", json={**NOTE_LOST, "expected_version": 2}
        )
        disagree = await intake.post(
            f"/cases/{case_id}/contact-lost", json={**NOTE_LOST, "expected_version": 3},
            headers={"If-Match": '"2"'},
        )
    assert ok.status_code == 201 and ok.headers["ETag"] == '"2"'
    for refused in (stale, stale_body):
        assert refused.status_code == 409
        assert refused.json()["detail"]["current_version"] == 2
        assert refused.headers["ETag"] == '"2"'
    assert current.status_code == 201 and current.json()["version"] == 3
    assert disagree.status_code == 422


async def test_concurrent_commands_get_gap_free_sequences_and_one_unbroken_chain(
    intake_app, kafka, topics
):
    async with running(intake_app) as intake:
        case_id = (await intake.post("/cases", json=REPORT)).json()["case_id"]
        answers = await asyncio.gather(*(
            intake.post(f"/cases/{case_id}/contact-lost", json={**NOTE_LOST, "last_contact_at": f"{1990 + i}"})
            for i in range(30)
        ))
    assert sorted(a.json()["sequence"] for a in answers) == list(range(2, 32))
    on_log = events_of(await read_until(kafka, topics.case_events, lambda m: len(m) >= 31), case_id)
    assert [m["sequence"] for m in on_log] == list(range(1, 32))  # per-case order on the log
    head = verify_chain(decode_event_dict(m) for m in on_log)
    assert head == on_log[-1]["hash"]


async def test_tampering_with_an_event_breaks_the_chain_at_that_event(intake_app, kafka, topics):
    async with running(intake_app) as intake:
        case_id = (await intake.post("/cases", json=REPORT)).json()["case_id"]
        for _ in range(3):
            await intake.post(f"/cases/{case_id}/contact-lost", json=NOTE_LOST)
    on_log = events_of(await read_until(kafka, topics.case_events, lambda m: len(m) >= 4), case_id)
    on_log[1]["data"]["last_contact"]["at"] = "2019"
    with pytest.raises(ValueError, match="sequence 2"):
        verify_chain(decode_event_dict(m) for m in on_log)


async def test_a_body_over_the_limit_is_refused_with_413_before_anything_is_read(
    kafka, topics, database_url
):
    settings = Settings(
        kafka_bootstrap_servers=kafka, case_events_topic=topics.case_events,
        database_url=database_url("intake"), max_body_bytes=2_000,
    )
    async with running(create_app(settings)) as intake:
        big = await intake.post("/cases", json={**REPORT, "summary": "x" * 5_000})
        fits = await intake.post("/cases", json=REPORT)
    assert big.status_code == 413 and "2000 bytes" in big.json()["detail"]
    assert fits.status_code == 201


def decode_event_dict(message: dict):
    return decode_event(json.dumps(message))


async def test_two_intake_processes_on_one_database_never_fork_a_case(kafka, topics, database_url):
    """Replicas share the store: the version compare-and-set keeps one gap-free stream."""
    url = database_url("intake")
    apps = [
        create_app(Settings(kafka_bootstrap_servers=kafka, case_events_topic=topics.case_events,
                            database_url=url, relay_idle_poll_seconds=0.2), clock=FakeClock())
        for _ in range(2)
    ]
    async with running(apps[0]) as one, running(apps[1]) as two:
        case_id = (await one.post("/cases", json=REPORT)).json()["case_id"]
        answers = await asyncio.gather(*(
            (one, two)[i % 2].post(f"/cases/{case_id}/contact-lost",
                                   json={**NOTE_LOST, "last_contact_at": f"{1990 + i}"})
            for i in range(20)
        ))
    assert [a.status_code for a in answers] == [201] * 20
    assert sorted(a.json()["sequence"] for a in answers) == list(range(2, 22))
    messages = await read_until(kafka, topics.case_events, lambda m: len({x["event_id"] for x in m}) >= 21)
    first_seen = list(dict.fromkeys(m["event_id"] for m in events_of(messages, case_id)))
    by_id = {m["event_id"]: m for m in messages}
    assert [by_id[e]["sequence"] for e in first_seen] == list(range(1, 22))
    assert verify_chain(decode_event_dict(by_id[e]) for e in first_seen) == by_id[first_seen[-1]]["hash"]


async def test_a_refusal_names_the_field_without_echoing_the_value(intake_app):
    secret = "Fictional Secret Name \x00"
    async with running(intake_app) as intake:
        refused = await intake.post("/cases", json={**REPORT, "subject": {"name": secret}})
    assert refused.status_code == 422
    assert ["body", "subject", "name"] in [e["loc"] for e in refused.json()["detail"]]
    assert "Fictional Secret Name" not in refused.text


@pytest.mark.parametrize(("path", "body", "value"), [
    ("/cases", {**REPORT, "subject": {"name": "x", "date_of_birth": "1984-02-30"}}, "1984-02-30"),
    ("{case}/family-check-ins", {"checked_in_at": " Tuesday the 4th "}, "Tuesday"),
], ids=["impossible_birth_date", "unreadable_check_in"])
async def test_a_date_that_cannot_be_read_is_refused_without_echoing_it(
    intake_app, path, body, value
):
    async with running(intake_app) as intake:
        case_id = (await intake.post("/cases", json=REPORT)).json()["case_id"]
        refused = await intake.post(path.format(case=f"/cases/{case_id}"), json=body)
    assert refused.status_code == 422
    assert value not in refused.text
    assert "value withheld" in refused.text  # the reason stays: it says what a date must be


async def test_commands_on_many_cases_at_once_keep_each_case_gap_free(intake_app, kafka, topics):
    async with running(intake_app) as intake:
        opened = await asyncio.gather(*(intake.post("/cases", json=REPORT) for _ in range(6)))
        case_ids = [o.json()["case_id"] for o in opened]
        answers = await asyncio.gather(*(
            intake.post(f"/cases/{case_ids[i % 6]}/contact-lost", json=NOTE_LOST) for i in range(60)
        ))
    assert {a.status_code for a in answers} == {201}
    messages = await read_until(kafka, topics.case_events, lambda m: len(m) >= 66)
    for case_id in case_ids:
        on_log = events_of(messages, case_id)
        assert [m["sequence"] for m in on_log] == list(range(1, 12))
        verify_chain(decode_event_dict(m) for m in on_log)
