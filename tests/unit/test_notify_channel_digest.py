"""The daily digest lists an advocate's alerts by kind, overdue first, by case reference only."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

import pytest

from services.notify.channels.digest import DigestEntry, render_digest

DAY = date(2025, 3, 15)
CASE_A = UUID("aaaaaaaa-0000-4000-8000-000000000001")
CASE_B = UUID("bbbbbbbb-0000-4000-8000-000000000002")


def entry(kind: str, case_id: UUID, due_day: int, state: str = "open") -> DigestEntry:
    return DigestEntry(kind=kind, case_id=case_id, due_at=datetime(2025, 3, due_day, tzinfo=UTC),
                       raised_at=datetime(2025, 3, 15, 6, tzinfo=UTC), state=state)


def test_sections_come_overdue_first_and_the_earliest_due_first_within_each():
    digest = render_digest("advocate-7", DAY, [
        entry("reminder", CASE_A, 20),
        entry("overdue", CASE_B, 14, "acknowledged"),
        entry("reprisal_reported", CASE_A, 15),
        entry("overdue", CASE_A, 10),
    ], public_base_url="https://tracker.example.org")

    assert digest.subject == "[Casetracker] Daily digest 2025-03-15: 4 alerts"
    assert digest.text == (
        "Your alerts on 2025-03-15: 4 alerts on 2 cases.\n"
        "\n"
        "Inquiry overdue (2)\n"
        "  - case aaaaaaaa, due 2025-03-10 00:00 UTC, raised 2025-03-15 06:00 UTC, open\n"
        f"    https://tracker.example.org/cases/{CASE_A}\n"
        "  - case bbbbbbbb, due 2025-03-14 00:00 UTC, raised 2025-03-15 06:00 UTC, acknowledged\n"
        f"    https://tracker.example.org/cases/{CASE_B}\n"
        "\n"
        "Reprisal reported (1)\n"
        "  - case aaaaaaaa, due 2025-03-15 00:00 UTC, raised 2025-03-15 06:00 UTC, open\n"
        f"    https://tracker.example.org/cases/{CASE_A}\n"
        "\n"
        "Inquiry due soon (1)\n"
        "  - case aaaaaaaa, due 2025-03-20 00:00 UTC, raised 2025-03-15 06:00 UTC, open\n"
        f"    https://tracker.example.org/cases/{CASE_A}\n"
        "\n"
        "The details are in the case tracker only: sign in to see them. "
        "Please do not reply to this message.\n"
    )


def test_an_empty_day_says_so():
    digest = render_digest("advocate-7", DAY, [])
    assert digest.subject == "[Casetracker] Daily digest 2025-03-15: 0 alerts"
    assert "Nothing is waiting for you." in digest.text


def test_one_digest_per_advocate_and_day_has_one_id():
    first = render_digest("advocate-7", DAY, [entry("overdue", CASE_A, 10)])
    again = render_digest("advocate-7", DAY, [])

    assert first.digest_id == again.digest_id
    assert first.digest_id != render_digest("advocate-8", DAY, []).digest_id
    assert first.digest_id != render_digest("advocate-7", date(2025, 3, 16), []).digest_id


@pytest.mark.parametrize("changes", [
    {"state": "Ask the family about Aigul"}, {"state": ""}, {"kind": "birthday"},
    {"due_at": datetime(2025, 3, 14)},
])
def test_an_entry_cannot_carry_free_text_or_an_unknown_kind(changes):
    fields = dict(kind="overdue", case_id=CASE_A, due_at=datetime(2025, 3, 14, tzinfo=UTC),
                  raised_at=datetime(2025, 3, 15, tzinfo=UTC), state="open")
    with pytest.raises(ValueError):
        DigestEntry(**(fields | changes))
