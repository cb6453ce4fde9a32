"""A fictional alert message for the channel tests, changed field by field where a test needs."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from services.notify.channels.message import AlertMessage, case_link

CASE = UUID("0f1e2d3c-4b5a-4697-8877-665544332211")
ALERT = UUID("a1a1a1a1-b2b2-4c3c-8d4d-e5e5e5e5e5e5")
INQUIRY = UUID("12345678-9abc-4def-8123-456789abcdef")


def fictional_alert(**changes) -> AlertMessage:
    fields = dict(
        alert_id=ALERT, kind="overdue", case_id=CASE, inquiry_id=INQUIRY,
        due_at=datetime(2025, 3, 14, 23, 59, tzinfo=UTC),
        raised_at=datetime(2025, 3, 15, 0, 1, tzinfo=UTC),
        reason="no answer to the inquiry due 2025-03-14", recipient="advocate-7",
        link=case_link("https://tracker.example.org/", CASE),
    )
    return AlertMessage(**(fields | changes))
