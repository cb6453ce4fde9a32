"""Deadlines that move say so: clock stops, extensions and policy changes recompute an open
inquiry's deadline and record deadline_recalculated; a paused inquiry raises no alert."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.notify.policies import PolicyFileError
from tests.integration.notify_support import (
    alerts,
    kinds_raised,
    notify_log_settled,
    of_type,
    open_case,
    record,
    send_inquiry,
    until_applied,
)
from tests.support import eventually, running

pytestmark = pytest.mark.integration

POLICIES = """
[[policy]]
id = "default"
version = 1
window = 30

[[policy]]
id = "embassy"
version = {version}
recipient_kind = "embassy"
window = {window}
days = "business"
"""


async def test_a_paused_inquiry_raises_nothing_and_resumes_with_its_paused_days_added(
    intake_app, start_notify, clock, kafka, topics
):
    async with running(intake_app) as intake, start_notify() as notify:
        case_id = await open_case(intake)
        inquiry_id = (await send_inquiry(intake, case_id))["inquiry_id"]  # due end of 03-13
        path = f"/cases/{case_id}/inquiries/{inquiry_id}"
        clock.now = datetime(2025, 3, 11, 9, tzinfo=UTC)
        await eventually(lambda: alerts(notify), until=lambda a: len(a) == 1)  # the reminder
        await record(intake, f"{path}/pause", {"reason": "Fictional: documents requested."})
        paused_log = await notify_log_settled(
            kafka, topics, lambda e: of_type(e, "alert_withdrawn"))
        clock.now = datetime(2025, 4, 1, tzinfo=UTC)  # long past the old deadline: paused
        quiet = await notify_log_settled(kafka, topics, lambda e: True)
        paused = (await notify.get(f"/inquiries/{inquiry_id}/deadline")).json()
        await record(intake, f"{path}/resumption", {})  # Tuesday 2025-04-01
        resumed_log = await notify_log_settled(
            kafka, topics, lambda e: len(of_type(e, "deadline_recalculated")) == 2)
        resumed = (await notify.get(f"/inquiries/{inquiry_id}/deadline")).json()
        clock.now = datetime(2025, 4, 4, tzinfo=UTC)
        final = await notify_log_settled(kafka, topics, lambda e: "overdue" in kinds_raised(e))

    [stopped] = of_type(paused_log, "deadline_recalculated")
    assert stopped["data"]["cause"] == "paused" and stopped["data"]["deadline"]["paused"]
    [withdrawn] = of_type(paused_log, "alert_withdrawn")
    assert withdrawn["data"]["reason"] == "deadline_moved"
    assert kinds_raised(quiet) == ["reminder"]  # nothing while paused
    assert paused["explanation"].startswith("clock stopped")
    # Paused from Tuesday 03-11 (which no longer counts) with 3 of 20 working days left;
    # resumed Tuesday 04-01, so those are 04-01 to 04-03, and 15 working days stood still.
    recalculated = of_type(resumed_log, "deadline_recalculated")[1]["data"]
    assert (recalculated["cause"], recalculated["previous_due_at"]) == ("resumed", None)
    assert resumed["explanation"] == (
        "due 2025-04-03: 20 business days after 2025-02-13, China calendar, "
        "policy embassy-v1, plus 15 paused")
    # the moved deadline is near again on resumption: a new reminder for it, then overdue
    assert kinds_raised(final) == ["overdue", "reminder", "reminder"]


async def test_an_extension_withdraws_the_overdue_alert_and_the_new_deadline_alerts_in_turn(
    intake_app, start_notify, clock, kafka, topics
):
    async with running(intake_app) as intake, start_notify() as notify:
        case_id = await open_case(intake)
        inquiry_id = (await send_inquiry(intake, case_id))["inquiry_id"]
        clock.now = datetime(2025, 3, 20, tzinfo=UTC)
        await eventually(lambda: alerts(notify), until=lambda a: len(a) == 1)  # overdue
        await record(intake, f"/cases/{case_id}/inquiries/{inquiry_id}/deadline-extension",
                     {"due_at": "2025-04-15T00:00:00Z", "reason": "Fictional: promised."})
        extended = await notify_log_settled(kafka, topics,
                                            lambda e: of_type(e, "alert_withdrawn"))
        clock.now = datetime(2025, 4, 15, tzinfo=UTC)
        final = await notify_log_settled(
            kafka, topics, lambda e: kinds_raised(e).count("overdue") == 2)
        open_alerts = await alerts(notify)

    [recalculated] = of_type(extended, "deadline_recalculated")
    assert recalculated["data"]["cause"] == "extended"
    assert recalculated["data"]["previous_due_at"] == "2025-03-14T00:00:00Z"
    assert recalculated["data"]["explanation"] == "due 2025-04-14: extended on 2025-03-20"
    assert of_type(extended, "alert_withdrawn")[0]["data"]["reason"] == "deadline_moved"
    overdue = of_type(final, "alert_raised", kind="overdue")
    assert [a["data"]["deadline_due_at"] for a in overdue] == [
        "2025-03-14T00:00:00Z", "2025-04-15T00:00:00Z"]
    assert [(a["kind"], a["due_at"]) for a in open_alerts] == [("overdue", "2025-04-15T00:00:00Z")]


async def test_a_new_policy_version_recomputes_open_deadlines_and_a_silent_change_is_refused(
    intake_app, start_notify, notify_db, clock, kafka, topics, tmp_path
):
    policies = tmp_path / "policies.toml"
    policies.write_text(POLICIES.format(version=1, window=20))
    async with running(intake_app) as intake:
        async with start_notify(deadline_policies_file=policies):
            case_id = await open_case(intake)
            open_inquiry = (await send_inquiry(intake, case_id))["inquiry_id"]
            answered = (await send_inquiry(intake, case_id))["inquiry_id"]
            await notify_log_settled(kafka, topics,
                                     lambda e: len(of_type(e, "deadline_set")) == 2)
            answer = await record(intake, f"/cases/{case_id}/inquiries/{answered}/responses",
                                  {"received_at": "2025-03-01", "summary": "Fictional: no record."})
            await until_applied(notify_db, answer["event_id"])

        policies.write_text(POLICIES.format(version=2, window=10))
        async with start_notify(deadline_policies_file=policies) as notify:
            log = await notify_log_settled(kafka, topics,
                                           lambda e: of_type(e, "deadline_recalculated"))
            deadline = (await notify.get(f"/inquiries/{open_inquiry}/deadline")).json()

        policies.write_text(POLICIES.format(version=2, window=15))  # changed, same version
        with pytest.raises(PolicyFileError, match="embassy-v2 differs .* needs a new version"):
            async with start_notify(deadline_policies_file=policies):
                pass

    [recalculated] = of_type(log, "deadline_recalculated")
    assert recalculated["data"]["inquiry_id"] == open_inquiry  # not the answered one
    assert recalculated["data"]["cause"] == "policy_changed"
    assert recalculated["data"]["previous_due_at"] == "2025-03-14T00:00:00Z"
    assert deadline["explanation"] == (
        "due 2025-02-27: 10 business days after 2025-02-13, China calendar, policy embassy-v2")
    assert deadline["revision"] == 2
