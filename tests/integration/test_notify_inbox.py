"""An advocate's inbox: families gone silent, acknowledging and snoozing alerts, the daily digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.notify_support import (
    LONG_OVERDUE,
    alerts,
    kinds_raised,
    notify_log_settled,
    of_type,
    open_case,
    record,
    send_inquiry,
)
from tests.support import CASEWORKER, SUPERVISOR, bearer, eventually, running

pytestmark = pytest.mark.integration

LOST = {"last_contact_at": "2025-01", "circumstances": "Fictional: phone switched off."}


async def test_a_family_silent_for_too_long_is_alerted_once_and_a_check_in_withdraws_it(
    intake_app, start_notify, clock, kafka, topics
):
    async with running(intake_app) as intake, start_notify(family_silent_days=30) as notify:
        case_id = await open_case(intake)
        await record(intake, f"/cases/{case_id}/contact-lost", LOST)  # told us on 03-01 09:00
        clock.advance(days=29)
        await notify_log_settled(kafka, topics, lambda e: True)
        assert await alerts(notify) == []
        clock.advance(days=1)
        [silent] = await eventually(lambda: alerts(notify), until=lambda a: len(a) == 1)
        await record(intake, f"/cases/{case_id}/family-check-ins",
                     {"checked_in_at": f"{clock.now:%Y-%m-%d}", "channel": "phone"})
        log = await notify_log_settled(kafka, topics, lambda e: of_type(e, "alert_withdrawn"))
        clock.advance(days=31)  # silent again, counted from the check-in's day
        again = await notify_log_settled(kafka, topics,
                                         lambda e: kinds_raised(e).count("family_silent") == 2)
        await record(intake, f"/cases/{case_id}/contact-restored", {
            "restored_at": f"{clock.now:%Y-%m-%d}", "circumstances": "Fictional: a short call."})
        restored = await notify_log_settled(
            kafka, topics, lambda e: len(of_type(e, "alert_withdrawn")) == 2)

    assert silent["kind"] == "family_silent"
    assert silent["due_at"] == "2025-03-31T09:00:00Z"
    assert silent["reason"] == "no word from the family for 30 days since contact was lost"
    assert of_type(log, "alert_withdrawn")[0]["data"]["reason"] == "family_checked_in"
    assert kinds_raised(again) == ["family_silent", "family_silent"]
    assert of_type(restored, "alert_withdrawn")[1]["data"]["reason"] == "contact_restored"


async def test_advocates_acknowledge_and_snooze_alerts_and_each_is_an_event(
    intake_app, start_notify, clock, kafka, topics
):
    async with running(intake_app) as intake, start_notify() as notify:
        case_id = await open_case(intake)
        await record(intake, f"/cases/{case_id}/assignment", {"assignee": "caseworker-7"})
        await send_inquiry(intake, case_id, LONG_OVERDUE)
        await send_inquiry(intake, case_id, {**LONG_OVERDUE, "sent_at": "2025-01-03"})
        inbox = await eventually(lambda: alerts(notify, advocate="caseworker-7", kind="overdue"),
                                 until=lambda a: len(a) == 2)
        first, second = (a["alert_id"] for a in inbox)
        as_7 = bearer(CASEWORKER, clock.now)

        acknowledged = await notify.post(f"/alerts/{first}/acknowledgement", headers=as_7)
        twice = await notify.post(f"/alerts/{first}/acknowledgement", headers=as_7)
        by_another = await notify.post(f"/alerts/{first}/acknowledgement",
                                       headers=bearer(SUPERVISOR, clock.now))
        by_an_auditor = await notify.post(f"/alerts/{first}/acknowledgement")
        in_the_past = await notify.post(f"/alerts/{second}/snooze", headers=as_7,
                                        json={"until": "2025-01-01T00:00:00Z"})
        until = (clock.now + timedelta(days=2)).isoformat()
        snoozed = await notify.post(f"/alerts/{second}/snooze", headers=as_7, json={"until": until})
        acknowledged_snooze = await notify.post(f"/alerts/{first}/snooze", headers=as_7,
                                                json={"until": until})
        unknown = await notify.post("/alerts/00000000-0000-4000-8000-000000000000/acknowledgement",
                                    headers=as_7)
        while_snoozed = await alerts(notify, advocate="caseworker-7", kind="overdue")
        clock.advance(days=3)
        after_snooze = await alerts(notify, advocate="caseworker-7", kind="overdue")
        log = await notify_log_settled(kafka, topics, lambda e: of_type(e, "alert_snoozed"))

    assert acknowledged.status_code == 200 and acknowledged.json()["state"] == "acknowledged"
    assert acknowledged.json()["acknowledged_by"] == "caseworker-7"
    assert twice.status_code == 200  # a double click records one event
    assert by_another.status_code == 409  # the team's supervisor, once someone took it
    assert by_another.json()["detail"]["rule"] == "alert_already_acknowledged"
    assert by_an_auditor.status_code == 403  # auditors read, never act
    assert in_the_past.status_code == 422 and in_the_past.json()["detail"][0]["loc"] == [
        "body", "until"]
    assert snoozed.status_code == 200 and snoozed.json()["state"] == "snoozed"
    assert acknowledged_snooze.status_code == 409
    assert unknown.status_code == 404
    assert while_snoozed == []
    assert [a["alert_id"] for a in after_snooze] == [second]
    assert [e["data"]["alert_id"] for e in of_type(log, "alert_acknowledged")] == [first]
    assert [e["data"]["by"] for e in of_type(log, "alert_snoozed")] == ["caseworker-7"]


async def test_the_daily_digest_shows_what_waits_the_most_pressing_first(
    intake_app, start_notify, clock, kafka, topics
):
    async with running(intake_app) as intake, start_notify() as notify:
        case_id = await open_case(intake)
        await record(intake, f"/cases/{case_id}/assignment", {"assignee": "caseworker-7"})
        await record(intake, f"/cases/{case_id}/threats", {
            "target": "family", "kind": "threat", "happened_at": "2025-02-28",
            "description": "Fictional: a warning phone call."})
        await send_inquiry(intake, case_id, LONG_OVERDUE)  # overdue and escalated at once
        await eventually(lambda: alerts(notify, advocate="caseworker-7"),
                         until=lambda a: len(a) == 3)
        digest = await notify.get("/advocates/caseworker-7/digest")
        other_day = await notify.get("/advocates/caseworker-7/digest", params={"day": "2025-02-01"})

    assert digest.status_code == 200
    body = digest.json()
    assert (body["day"], body["raised"], body["acknowledged"]) == ("2025-03-01", 3, 0)
    assert [a["kind"] for a in body["open"]] == ["escalation", "overdue", "reprisal_reported"]
    assert other_day.json()["raised"] == 0
    assert datetime.fromisoformat(body["open"][0]["raised_at"]) == datetime(
        2025, 3, 1, 9, tzinfo=UTC)
