"""Exactly once whatever happens to notify: several replicas sharing the partitions, or a store
lost and rebuilt from the log, never raise an alert twice nor break notify's chain."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from contracts import decode_event
from contracts.chain import verify_chain
from services.notify.app import create_app as create_notify
from tests.integration.notify_support import (
    LONG_OVERDUE,
    alerts,
    assert_one_stream_per_case,
    kinds_raised,
    notify_log,
    notify_log_settled,
    of_type,
    open_case,
    record,
    send_inquiry,
)
from tests.support import AUDITOR, CASEWORKER, bearer, eventually, running

pytestmark = pytest.mark.integration

CASES = 6


def assert_each_alert_raised_once(log: list[dict]) -> None:
    raised = of_type(log, "alert_raised")
    by_deadline = [(e["data"]["kind"], e["data"]["inquiry_id"], e["data"]["deadline_due_at"])
                   for e in {e["event_id"]: e for e in raised}.values()]
    assert len(by_deadline) == len(set(by_deadline)), "an alert was raised twice"


def chains_verify(log: list[dict]) -> None:
    by_case: dict[str, dict[str, object]] = {}
    for message in log:
        event = decode_event(json.dumps(message))
        by_case.setdefault(message["case_id"], {})[message["event_id"]] = event
    for events in by_case.values():
        verify_chain(sorted(events.values(), key=lambda e: e.sequence))


async def test_two_replicas_sharing_the_partitions_raise_each_alert_once(
    intake_app, notify_settings, clock, kafka, topics
):
    replica = notify_settings.model_copy(update={"kafka_session_timeout_ms": 3_000})
    async with running(intake_app) as intake, \
            running(create_notify(replica, clock=clock), as_=AUDITOR) as one, \
            running(create_notify(replica, clock=clock), as_=AUDITOR) as two:
        cases = [await open_case(intake) for _ in range(CASES)]
        for case_id in cases:
            await record(intake, f"/cases/{case_id}/assignment", {"assignee": "caseworker-7"})
            await send_inquiry(intake, case_id)  # due at the end of 2025-03-13
            await send_inquiry(intake, case_id, LONG_OVERDUE)  # overdue at once
        # the long overdue ones alert (overdue, escalation) at once; the others at 03-14, 03-28
        clock.now = datetime(2025, 3, 14, tzinfo=UTC)
        await notify_log_settled(kafka, topics, lambda e: len(raised(e)) == 3 * CASES)
        clock.now = datetime(2025, 3, 28, tzinfo=UTC)
        log = await notify_log_settled(kafka, topics, lambda e: len(raised(e)) == 4 * CASES)
        seen_by_one, seen_by_two = await alerts(one, state="all"), await alerts(two, state="all")

    assert_each_alert_raised_once(log)
    assert_one_stream_per_case(log)
    chains_verify(log)
    per_inquiry: dict[str, list[str]] = {}
    for event in raised(log):
        per_inquiry.setdefault(event["data"]["inquiry_id"], []).append(event["data"]["kind"])
    assert sorted(map(sorted, per_inquiry.values())) == [["escalation", "overdue"]] * 2 * CASES
    assert len(seen_by_one) == len(seen_by_two) == 4 * CASES


def raised(log: list[dict]) -> list[dict]:
    """Each alert_raised once, however often a replica published it."""
    return list({e["event_id"]: e for e in of_type(log, "alert_raised")}.values())


async def test_a_store_rebuilt_from_the_log_carries_on_without_raising_anything_again(
    intake_app, start_notify, notify_settings, database_url, clock, kafka, topics
):
    async with running(intake_app) as intake:
        async with start_notify() as notify:
            case_id = await open_case(intake)
            await record(intake, f"/cases/{case_id}/assignment", {"assignee": "caseworker-7"})
            waiting = (await send_inquiry(intake, case_id))["inquiry_id"]
            await send_inquiry(intake, case_id, LONG_OVERDUE)
            [overdue] = await eventually(lambda: alerts(notify, kind="overdue"),
                                         until=lambda a: len(a) == 1)
            acked = await notify.post(f"/alerts/{overdue['alert_id']}/acknowledgement",
                                      headers=bearer(CASEWORKER, clock.now))
            assert acked.status_code == 200
            before = await notify_log_settled(kafka, topics, lambda e: of_type(
                e, "alert_acknowledged"))
            listed_before = await alerts(notify, state="all")

        # The store is lost: a new database and a new consumer group read both topics from 0.
        rebuilt = {"database_url": database_url("notify_rebuilt"), "consumer_group": "rebuilt"}
        async with start_notify(**rebuilt) as notify:
            await eventually(lambda: notify.get("/readyz"),
                             until=lambda r: r.json()["checks"]["caught_up"])
            await asyncio.sleep(1)
            after_catch_up = await notify_log(kafka, topics)
            listed_after = await alerts(notify, state="all")
            clock.now = datetime(2025, 3, 14, tzinfo=UTC)  # the waiting inquiry falls due
            later = await notify_log_settled(
                kafka, topics, lambda e: "overdue" in kinds_raised(e, waiting))

    assert after_catch_up == before  # nothing decided again, nothing published twice
    assert listed_after == listed_before  # acknowledged, by whom and when, as before
    assert len(later) > len(before)
    assert_each_alert_raised_once(later)
    assert_one_stream_per_case(later)
    chains_verify(later)
