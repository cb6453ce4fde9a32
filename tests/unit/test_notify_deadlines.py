"""Deadline rules of notify: pure functions, time passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from services.notify.deadlines import (
    Deadline,
    inquiry_due_at,
    is_overdue,
    overdue_event_id,
)

END_OF = timedelta(microseconds=1)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_an_explicit_deadline_wins_over_the_policy():
    explicit = at(2025, 2, 15, 12)
    assert inquiry_due_at("2025-02-10", explicit, default_response_days=30) == explicit


@pytest.mark.parametrize(
    ("sent_at", "due"),
    [
        # The policy runs from the last moment a vague date can mean, never from its first.
        ("2025", at(2026, 1, 1) - END_OF + timedelta(days=30)),
        ("2025-02", at(2025, 3, 1) - END_OF + timedelta(days=30)),
        ("2024-02", at(2024, 3, 1) - END_OF + timedelta(days=30)),  # leap year
        ("2025-02-10", at(2025, 2, 11) - END_OF + timedelta(days=30)),
        ("2025-02-10T09:30:00Z", at(2025, 3, 12, 9, 30)),
    ],
)
def test_without_a_deadline_the_policy_days_run_from_the_latest_possible_sending(sent_at, due):
    assert inquiry_due_at(sent_at, None, default_response_days=30) == due


def test_the_policy_length_is_configurable():
    assert inquiry_due_at("2025-02-10T00:00:00Z", None, default_response_days=7) == at(2025, 2, 17)


def test_the_overdue_event_id_is_the_same_every_time_and_differs_per_inquiry():
    inquiry = UUID("11111111-1111-4111-8111-111111111111")
    assert overdue_event_id(inquiry) == overdue_event_id(UUID(str(inquiry)))
    assert overdue_event_id(inquiry) != overdue_event_id(uuid4())
    assert overdue_event_id(inquiry).version == 5


NOW = at(2025, 4, 1, 12)


def deadline(due_at: datetime, *, answered: bool = False, raised: bool = False) -> Deadline:
    return Deadline(inquiry_id=uuid4(), case_id=uuid4(), due_at=due_at, answered=answered,
                    raised=raised)


def test_an_unanswered_inquiry_past_its_deadline_is_overdue():
    assert is_overdue(deadline(NOW - timedelta(seconds=1)), NOW)
    assert is_overdue(deadline(NOW), NOW)  # the deadline moment itself counts


def test_an_answered_inquiry_is_never_overdue():
    assert not is_overdue(deadline(NOW - timedelta(days=400), answered=True), NOW)


def test_an_inquiry_already_alerted_is_not_alerted_again():
    assert not is_overdue(deadline(NOW - timedelta(days=1), raised=True), NOW)


def test_an_inquiry_not_yet_due_is_not_overdue():
    assert not is_overdue(deadline(NOW + timedelta(microseconds=1)), NOW)

