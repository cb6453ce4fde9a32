"""Deadlines: the NGO's windows on each country's calendar, clock stops, and what explains them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from contracts.alert_events import DeadlineRule
from services.notify.deadlines import Extension, InquiryFacts, Pause, compute_deadline, explain
from services.notify.policies import Policy

EMBASSY = Policy(id="embassy", version=2, recipient_kind="embassy", window=20, days="business",
                 remind_before=3, escalate_after=14)
DEFAULT = Policy(id="default", version=1, window=30, days="calendar")


def facts(**changes) -> InquiryFacts:
    base = dict(sent_at="2025-02-13", recipient_kind="embassy", recipient_country="CN",
                channel="letter")
    return InquiryFacts(**(base | changes))


def test_business_days_skip_weekends_and_the_recipients_public_holidays():
    # 2025-02-13 is a Thursday; 20 Chinese working days later, with no holiday between, is
    # Thursday 2025-03-13, and the inquiry is overdue once that day has ended.
    deadline = compute_deadline(facts(), EMBASSY)
    assert deadline.due_on == date(2025, 3, 13)
    assert deadline.due_at == datetime(2025, 3, 14, tzinfo=UTC)
    assert explain(deadline) == (
        "due 2025-03-13: 20 business days after 2025-02-13, China calendar, policy embassy-v2")


def test_the_chinese_new_year_holidays_do_not_count_but_its_swapped_working_sunday_does():
    # Spring Festival 2025: 28 Jan - 4 Feb off; Sunday 26 Jan and Saturday 8 Feb are working days.
    deadline = compute_deadline(facts(sent_at="2025-01-24"), EMBASSY)
    counted = ["01-26", "01-27", "02-05", "02-06", "02-07", "02-08", "02-10", "02-11", "02-12",
               "02-13", "02-14", "02-17", "02-18", "02-19", "02-20", "02-21", "02-24", "02-25",
               "02-26", "02-27"]
    assert len(counted) == 20
    assert deadline.due_on == date(2025, 2, 27)


def test_a_geneva_un_body_works_to_genevas_calendar_whatever_the_recipients_country():
    un = Policy(id="un-body", version=1, recipient_kind="un_body", window=4, days="business",
                calendar="CH-GE")
    # Christmas Day, a weekend, then Geneva's own Restoration Day (31 Dec) and New Year.
    deadline = compute_deadline(facts(sent_at="2025-12-24", recipient_kind="un_body",
                                      recipient_country="KZ"), un)
    assert deadline.due_on == date(2026, 1, 2)  # Fri 26, Mon 29, Tue 30 Dec, then Fri 2 Jan
    assert "Switzerland (Genève) calendar" in explain(deadline)
    swiss = compute_deadline(facts(sent_at="2025-12-24", recipient_kind="un_body",
                                   recipient_country="CH"), un.model_copy(update={"calendar": None}))
    assert swiss.due_on == date(2025, 12, 31)  # the rest of Switzerland works on the 31st


def test_calendar_days_count_every_day():
    deadline = compute_deadline(facts(recipient_kind="other"), DEFAULT)
    assert deadline.due_on == date(2025, 3, 15)
    assert explain(deadline) == "due 2025-03-15: 30 calendar days after 2025-02-13, policy default-v1"


@pytest.mark.parametrize("sent_at, due_on", [
    ("2025-02", date(2025, 3, 30)),  # the window runs from the last day of the month
    ("2025", date(2026, 1, 30)),
    ("2025-02-13T22:30:00+06:00", date(2025, 3, 15)),  # 16:30 UTC that day
])
def test_a_partial_sending_date_counts_from_the_latest_day_it_can_mean(sent_at, due_on):
    assert compute_deadline(facts(sent_at=sent_at), DEFAULT).due_on == due_on


def test_a_country_without_a_known_calendar_counts_weekends_only_and_says_so():
    deadline = compute_deadline(facts(recipient_country="XX", sent_at="2025-12-24"), EMBASSY)
    assert deadline.due_on == date(2026, 1, 21)  # Christmas and New Year count
    assert "XX (weekends only)" in explain(deadline)


def test_an_explicit_due_date_wins_over_the_policy_whose_reminders_still_apply():
    due = datetime(2025, 4, 1, tzinfo=UTC)
    deadline = compute_deadline(facts(explicit_due_at=due), EMBASSY)
    assert (deadline.rule, deadline.due_at, deadline.due_on) == (
        DeadlineRule.EXPLICIT, due, date(2025, 3, 31))
    assert deadline.remind_at == datetime(2025, 3, 29, tzinfo=UTC)
    assert deadline.escalate_at == datetime(2025, 4, 15, tzinfo=UTC)
    assert explain(deadline) == "due 2025-03-31: the date given with the inquiry"


def test_paused_days_do_not_count():
    # Paused Thursday 20 Feb, resumed Thursday 27 Feb: five working days stood still.
    paused = facts(pauses=(Pause(date(2025, 2, 20), date(2025, 2, 27)),))
    deadline = compute_deadline(paused, EMBASSY)
    assert (deadline.due_on, deadline.paused_days, deadline.paused) == (date(2025, 3, 20), 5, False)
    assert explain(deadline).endswith("policy embassy-v2, plus 5 paused")


def test_while_paused_no_deadline_runs():
    deadline = compute_deadline(facts(pauses=(Pause(date(2025, 2, 20)),)), EMBASSY)
    assert deadline.paused and deadline.due_at is None and deadline.remind_at is None
    assert explain(deadline) == (
        "clock stopped: no deadline runs while the inquiry is paused (policy embassy-v2)")


def test_a_pause_after_the_deadline_passed_does_not_move_it_but_stops_alerts_while_it_lasts():
    late = facts(pauses=(Pause(date(2025, 3, 20), date(2025, 3, 25)),))
    assert compute_deadline(late, EMBASSY).due_on == date(2025, 3, 13)
    assert compute_deadline(facts(pauses=(Pause(date(2025, 3, 20)),)), EMBASSY).paused


def test_an_explicit_date_moves_on_by_the_calendar_days_its_clock_stood_still():
    due = datetime(2025, 3, 1, tzinfo=UTC)
    paused = facts(explicit_due_at=due, pauses=(Pause(date(2025, 2, 20), date(2025, 2, 24)),))
    deadline = compute_deadline(paused, EMBASSY)
    assert (deadline.due_at, deadline.paused_days) == (datetime(2025, 3, 5, tzinfo=UTC), 4)


def test_an_extension_wins_over_both_and_is_not_moved_by_pauses_before_it_was_granted():
    extended = facts(
        explicit_due_at=datetime(2025, 3, 1, tzinfo=UTC),
        pauses=(Pause(date(2025, 2, 20), date(2025, 2, 24)),),
        extension=Extension(datetime(2025, 4, 30, tzinfo=UTC), date(2025, 3, 10)),
    )
    deadline = compute_deadline(extended, EMBASSY)
    assert (deadline.rule, deadline.due_at) == (DeadlineRule.EXTENDED,
                                                datetime(2025, 4, 30, tzinfo=UTC))
    assert explain(deadline) == "due 2025-04-29: extended on 2025-03-10"
