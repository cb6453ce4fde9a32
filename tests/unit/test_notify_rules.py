"""Alert rules: one alert per deadline and kind, for the right people, withdrawn when resolved."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

from contracts.alert_events import AlertKind, Deadline, DeadlineRule, WithdrawalReason
from services.notify import rules
from services.notify.rules import CaseNow, InquiryNow, OpenAlert

CASE, INQUIRY = uuid4(), uuid4()
DUE = datetime(2025, 3, 14, tzinfo=UTC)
DEADLINE = Deadline(rule=DeadlineRule.POLICY, due_at=DUE, due_on=date(2025, 3, 13),
                    remind_at=DUE - timedelta(days=3), escalate_at=DUE + timedelta(days=14))
OPEN_CASE = CaseNow(closed=False, contact_lost=False, last_heard_at=None)
WINDOW = timedelta(days=7)


def timers(deadline=DEADLINE) -> dict[AlertKind, rules.Timer]:
    return {t.kind: t for t in rules.inquiry_timers(CASE, INQUIRY, 1, deadline)}


def due(timer, now, *, inquiry=InquiryNow(rules.OPEN, 1, DEADLINE), case=OPEN_CASE) -> bool:
    return rules.still_due(timer, now, inquiry=inquiry, case=case, silent_days=30,
                           reprisal_window=WINDOW)


def test_an_open_deadline_has_a_reminder_an_overdue_and_an_escalation_timer():
    found = timers()
    assert {k: t.fire_at for k, t in found.items()} == {
        AlertKind.REMINDER: DUE - timedelta(days=3), AlertKind.OVERDUE: DUE,
        AlertKind.ESCALATION: DUE + timedelta(days=14)}
    assert len({t.alert_id for t in found.values()}) == 3


def test_alert_ids_depend_only_on_the_kind_inquiry_and_deadline():
    assert timers()[AlertKind.OVERDUE].alert_id == timers()[AlertKind.OVERDUE].alert_id
    moved = DEADLINE.model_copy(update={"due_at": DUE + timedelta(days=1)})
    assert timers(moved)[AlertKind.OVERDUE].alert_id != timers()[AlertKind.OVERDUE].alert_id


def test_a_paused_inquiry_has_no_timers():
    assert timers(DEADLINE.model_copy(update={"paused": True, "due_at": None})) == {}


def test_the_overdue_alert_is_due_from_the_deadline_on_and_not_before():
    overdue = timers()[AlertKind.OVERDUE]
    assert not due(overdue, DUE - timedelta(seconds=1))
    assert due(overdue, DUE)


def test_a_reminder_that_comes_too_late_gives_way_to_the_overdue_alert():
    reminder = timers()[AlertKind.REMINDER]
    assert due(reminder, DUE - timedelta(days=1))
    assert not due(reminder, DUE + timedelta(hours=1))


def test_nothing_is_due_for_an_answered_withdrawn_moved_or_closed_inquiry():
    overdue, later = timers()[AlertKind.OVERDUE], DUE + timedelta(days=1)
    assert not due(overdue, later, inquiry=InquiryNow(rules.ANSWERED, 1, DEADLINE))
    assert not due(overdue, later, inquiry=InquiryNow(rules.WITHDRAWN, 1, DEADLINE))
    moved = DEADLINE.model_copy(update={"due_at": DUE + timedelta(days=5)})
    assert not due(overdue, later, inquiry=InquiryNow(rules.OPEN, 2, moved))
    assert not due(overdue, later, case=CaseNow(True, False, None))


def test_a_family_silent_for_too_long_after_contact_was_lost_is_alerted_once_per_silence():
    heard = datetime(2025, 3, 1, 12, tzinfo=UTC)
    silent = CaseNow(closed=False, contact_lost=True, last_heard_at=heard)
    timer = rules.family_silence_timer(CASE, silent, 30)
    assert timer.fire_at == heard + timedelta(days=30)
    assert due(timer, timer.fire_at, inquiry=None, case=silent)
    checked_in = CaseNow(False, True, heard + timedelta(days=10))
    assert not due(timer, timer.fire_at, inquiry=None, case=checked_in)
    assert rules.family_silence_timer(CASE, checked_in, 30).alert_id != timer.alert_id
    assert rules.family_silence_timer(CASE, CaseNow(False, False, heard), 30) is None


def test_a_reprisal_is_due_at_once_unless_it_was_recorded_long_ago():
    recorded = datetime(2025, 3, 1, tzinfo=UTC)
    timer = rules.reprisal_timer(CASE, uuid4(), recorded)
    assert due(timer, recorded, inquiry=None)
    assert not due(timer, recorded + WINDOW + timedelta(seconds=1), inquiry=None)


def test_alerts_go_to_the_assignee_or_while_unassigned_to_the_supervisors():
    supervisors = ["supervisor-1", "supervisor-2"]
    assert rules.recipients(AlertKind.OVERDUE, "caseworker-7", supervisors) == ["caseworker-7"]
    assert rules.recipients(AlertKind.OVERDUE, None, supervisors) == supervisors
    assert rules.recipients(AlertKind.ESCALATION, "caseworker-7", supervisors) == [
        "caseworker-7", *supervisors]
    assert rules.recipients(AlertKind.REPRISAL_REPORTED, "supervisor-1", supervisors) == supervisors


def test_reasons_name_dates_and_kinds_but_nothing_about_people():
    overdue = timers()[AlertKind.OVERDUE]
    assert rules.reason(overdue, DUE, 30) == "no answer to the inquiry due 2025-03-13"
    escalation = timers()[AlertKind.ESCALATION]
    assert rules.reason(escalation, DUE + timedelta(days=14), 30) == (
        "no answer to the inquiry due 2025-03-13: 14 days overdue")


def test_an_open_alert_is_withdrawn_when_what_it_warned_of_is_resolved():
    alert = OpenAlert(uuid4(), AlertKind.OVERDUE, CASE, INQUIRY, DUE)

    def reason(inquiry, case=OPEN_CASE):
        return rules.withdrawal_reason(alert, inquiry=inquiry, case=case, silent_days=30)

    assert reason(InquiryNow(rules.OPEN, 1, DEADLINE)) is None
    assert reason(InquiryNow(rules.ANSWERED, 1, DEADLINE)) is WithdrawalReason.ANSWERED
    assert reason(InquiryNow(rules.WITHDRAWN, 1, DEADLINE)) is WithdrawalReason.INQUIRY_WITHDRAWN
    extended = DEADLINE.model_copy(update={"due_at": DUE + timedelta(days=30)})
    assert reason(InquiryNow(rules.OPEN, 2, extended)) is WithdrawalReason.DEADLINE_MOVED
    assert reason(InquiryNow(rules.OPEN, 1, DEADLINE), CaseNow(True, False, None)) is (
        WithdrawalReason.CASE_CLOSED)


def test_a_family_silence_alert_is_withdrawn_by_a_check_in_or_restored_contact():
    heard = datetime(2025, 3, 1, tzinfo=UTC)
    silent = CaseNow(False, True, heard)
    timer = rules.family_silence_timer(CASE, silent, 30)
    alert = OpenAlert(timer.alert_id, AlertKind.FAMILY_SILENT, CASE, None, None)

    def reason(case):
        return rules.withdrawal_reason(alert, inquiry=None, case=case, silent_days=30)

    assert reason(silent) is None
    assert reason(CaseNow(False, True, heard + timedelta(days=31))) is (
        WithdrawalReason.FAMILY_CHECKED_IN)
    assert reason(CaseNow(False, False, heard)) is WithdrawalReason.CONTACT_RESTORED


def test_a_reprisal_alert_stays_until_someone_has_seen_it():
    alert = OpenAlert(uuid4(), AlertKind.REPRISAL_REPORTED, CASE, None, None)
    assert rules.withdrawal_reason(alert, inquiry=None, case=CaseNow(True, False, None),
                                   silent_days=30) is None
