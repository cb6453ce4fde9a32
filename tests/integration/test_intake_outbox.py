"""No acknowledged event is ever lost: the broker may be down and intake may be SIGKILLed
right after a 2xx; the events still reach the log, in per-case order, once things are back."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.embedded import EmbeddedBroker
from deploy.processes import free_port
from deploy.topics import ensure_topics
from services.intake.app import create_app
from services.intake.config import Settings
from tests.broker_support import on_every_broker
from tests.support import ServiceProcess, eventually, read_until, running

pytestmark = pytest.mark.integration

REPORT = {
    "subject": {"name": "Әсел Мысалова (fictional)"},
    "reporter": {"name": "Fictional Cousin", "relationship": "cousin"},
    "summary": "Fictional: last seen at a bus station.",
}


def contact_lost(year: int) -> dict:
    return {"last_contact_at": str(year), "circumstances": "Fictional: no word since."}


async def record_cases(post, cases: int = 3, per_case: int = 4) -> dict[str, list[str]]:
    """Open cases and record events on them, interleaved; returns case id -> acked event ids."""
    acked: dict[str, list[str]] = {}
    for _ in range(cases):
        opened = await post("/cases", REPORT)
        acked[opened["case_id"]] = [opened["event_id"]]
    for i in range(per_case - 1):
        for case_id in acked:
            acked[case_id].append((await post(f"/cases/{case_id}/contact-lost", contact_lost(2000 + i)))["event_id"])
    return acked


def assert_on_log_in_case_order(messages: list[dict], acked: dict[str, list[str]]) -> None:
    for case_id, event_ids in acked.items():
        seen: list[str] = []
        for message in messages:  # duplicates are allowed (consumers dedupe); order is not negotiable
            if message["case_id"] == case_id and message["event_id"] not in seen:
                seen.append(message["event_id"])
        assert seen == event_ids, f"case {case_id}: log order differs from acknowledgement order"


def all_acked_present(acked: dict[str, list[str]]):
    wanted = {e for ids in acked.values() for e in ids}
    return lambda messages: wanted <= {m["event_id"] for m in messages}


async def test_commands_are_accepted_while_the_broker_is_down_and_published_when_it_returns(
    database_url, tmp_path
):
    port = free_port()
    topic = "case-events-outage"
    settings = Settings(
        kafka_bootstrap_servers=f"127.0.0.1:{port}", case_events_topic=topic,
        database_url=database_url("intake"), relay_idle_poll_seconds=0.2,
        revocations_wait_seconds=0.5,  # no log to read revocations from: honour tokens soon
    )
    async with running(create_app(settings)) as intake:

        async def post(path: str, body: dict) -> dict:
            response = await intake.post(path, json=body)
            assert response.status_code == 201, response.text
            return response.json()

        acked = await record_cases(post)
        ready = (await intake.get("/readyz")).json()
        assert ready["ready"] is True and ready["checks"]["broker"] is False
        assert ready["checks"]["outbox_backlog"] == 12

        with EmbeddedBroker(kafka_port=port, durable=False, data_dir=tmp_path / "broker") as broker:
            await ensure_topics(broker.bootstrap_servers, [topic])
            messages = await read_until(broker.bootstrap_servers, topic, all_acked_present(acked), timeout=60)
            assert_on_log_in_case_order(messages, acked)
            await eventually(lambda: intake.get("/readyz"),
                             until=lambda r: r.json()["checks"]["outbox_backlog"] == 0)


async def test_a_broker_that_goes_away_and_comes_back_gets_every_event_accepted_meanwhile(
    database_url, tmp_path
):
    port = free_port()
    topic = "case-events-restart"
    settings = Settings(
        kafka_bootstrap_servers=f"127.0.0.1:{port}", case_events_topic=topic,
        database_url=database_url("intake"), relay_idle_poll_seconds=0.2,
        kafka_request_timeout_ms=3_000, revocations_wait_seconds=0.5,
    )
    async with running(create_app(settings)) as intake:

        async def post(path: str, body: dict) -> dict:
            response = await intake.post(path, json=body)
            assert response.status_code == 201, response.text
            return response.json()

        with EmbeddedBroker(kafka_port=port, durable=False, data_dir=tmp_path / "b1") as broker:
            await ensure_topics(broker.bootstrap_servers, [topic])
            before = await record_cases(post, cases=1, per_case=2)
            await read_until(broker.bootstrap_servers, topic, all_acked_present(before))
        during = await record_cases(post)  # the broker is gone: still 201s
        with EmbeddedBroker(kafka_port=port, durable=False, data_dir=tmp_path / "b2") as broker:
            await ensure_topics(broker.bootstrap_servers, [topic])
            messages = await read_until(broker.bootstrap_servers, topic, all_acked_present(during), timeout=90)
    assert_on_log_in_case_order(messages, during)


@on_every_broker()
@pytest.mark.parametrize("broker_up_at_kill", [False, True], ids=["broker-down", "broker-up"])
async def test_sigkill_right_after_a_2xx_loses_nothing(
    kafka, topics, database_url, tmp_path, broker_up_at_kill
):
    database = database_url("intake")
    dead_broker = f"127.0.0.1:{free_port()}"
    first = intake_process(tmp_path, database, kafka if broker_up_at_kill else dead_broker, topics.case_events)
    first.start()
    try:
        async with first.client(timeout=10) as client:

            async def post(path: str, body: dict) -> dict:
                response = await client.post(path, json=body)
                assert response.status_code == 201, response.text
                return response.json()

            acked = await record_cases(post)
    finally:
        first.kill()  # immediately after the last 2xx; no chance to drain the outbox
    second = intake_process(tmp_path, database, kafka, topics.case_events)
    second.start()
    try:
        messages = await read_until(kafka, topics.case_events, all_acked_present(acked), timeout=60)
    finally:
        second.stop()
    assert_on_log_in_case_order(messages, acked)


def intake_process(tmp_path: Path, database_url: str, kafka: str, topic: str) -> ServiceProcess:
    return ServiceProcess("intake", tmp_path, {
        "DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "CASE_EVENTS_TOPIC": topic, "RELAY_IDLE_POLL_SECONDS": "0.2",
        "REVOCATIONS_WAIT_SECONDS": "1",  # its broker may be down: honour tokens soon
    })
