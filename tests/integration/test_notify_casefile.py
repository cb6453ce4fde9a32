"""What notify decides shows in casefile: the deadline and its explanation on the inquiry, the
alerts and their withdrawal in the timeline, notify's own chain verified beside intake's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.casefile.app import create_app as create_casefile
from tests.broker_support import on_every_broker
from tests.integration.casefile_support import case_of, timeline_of, until_caught_up
from tests.integration.notify_support import (
    alerts,
    answer,
    notify_log_settled,
    of_type,
    open_case,
    send_inquiry,
)
from tests.support import eventually, running

pytestmark = pytest.mark.integration


@on_every_broker()
async def test_the_timeline_shows_the_deadline_the_alert_and_its_withdrawal(
    intake_app, start_notify, casefile_settings, clock, kafka, topics
):
    async with running(intake_app) as intake, start_notify() as notify, \
            running(create_casefile(casefile_settings)) as casefile:
        case_id = await open_case(intake)
        inquiry_id = (await send_inquiry(intake, case_id))["inquiry_id"]
        clock.now = datetime(2025, 3, 14, tzinfo=UTC)
        await eventually(lambda: alerts(notify), until=lambda a: len(a) == 1)
        await notify_log_settled(kafka, topics, lambda e: of_type(e, "alert_raised"))
        await until_caught_up(casefile, kafka, topics, intake=intake)
        overdue = await case_of(casefile, case_id)
        await answer(intake, case_id, inquiry_id)
        await notify_log_settled(kafka, topics, lambda e: of_type(e, "alert_withdrawn"))
        await until_caught_up(casefile, kafka, topics, intake=intake)
        answered = await case_of(casefile, case_id)
        timeline = await timeline_of(casefile, case_id)
        verification = (await casefile.get(f"/cases/{case_id}/verification")).json()

    [inquiry] = overdue["inquiries"]
    assert (inquiry["state"], inquiry["due_at"]) == ("overdue", "2025-03-14T00:00:00.000000Z")
    assert inquiry["due_explanation"] == (
        "due 2025-03-13: 20 business days after 2025-02-13, China calendar, policy embassy-v1")
    assert overdue["inquiries_overdue"] == 1
    assert answered["inquiries"][0]["state"] == "answered" and answered["inquiries_overdue"] == 0
    assert [(e["type"], e["stream"]) for e in timeline if e["stream"] == "alert"] == [
        ("deadline_set", "alert"), ("alert_raised", "alert"), ("alert_withdrawn", "alert")]
    assert {e["type"] for e in timeline} >= {"report_received", "inquiry_sent",
                                             "official_response_received"}
    assert verification["intact"] is True, verification
    assert sorted(s["stream"] for s in verification["streams"]) == ["alert", "case"]
