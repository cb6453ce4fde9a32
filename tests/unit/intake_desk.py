"""One fictional case worked on with a fixed clock and counted ids, for intake's decision tests."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count
from uuid import UUID

from services.intake import case_decisions, casework_decisions, inquiry_decisions
from services.intake import commands as c
from services.intake.decisions import (
    Context,
    evolve,
)

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
UNKNOWN = UUID("00000000-0000-4000-8000-00000000dead")

REPORT = c.ReportCase(
    subject={"name": "Айгүл Сапарқызы (fictional)", "date_of_birth": "1984-03"},
    reporter={"name": "Fictional Brother", "relationship": "brother"},
    summary="Fictional: did not return from a visit to relatives in 2017.",
)
INQUIRY = c.SendInquiry(
    recipient={"name": "Fictional Consulate", "kind": "consulate", "country": "CN"},
    channel="letter",
    sent_at="2025-01-15",
)


class Desk:
    """One case being worked on: decides commands with a fixed clock and folds the events."""

    def __init__(self, encryption=None) -> None:
        ids = count(1)
        self.ctx = Context(
            now=NOW,
            actor="caseworker-test",
            team="almaty",
            correlation_id=UUID(int=999),
            new_id=lambda: UUID(int=next(ids)),
            encryption=encryption,
        )
        self.events = [case_decisions.open_case(REPORT, self.ctx)]
        self.state = evolve(None, self.events[0])

    def do(self, decide, *args):
        event = decide(self.state, *args, self.ctx)
        self.state = evolve(self.state, event)
        self.events.append(event)
        return event

    def inquiry(self) -> UUID:
        return self.do(inquiry_decisions.send_inquiry, INQUIRY).data.inquiry_id

    def close(self):
        return self.do(casework_decisions.close_case, c.CloseCase(outcome="released"))


# The commands that act on an existing inquiry, with the decision that takes each.
ON_INQUIRY = [
    (inquiry_decisions.send_follow_up, c.SendFollowUp(channel="email", sent_at="2025-02-01")),
    (inquiry_decisions.record_response, c.RecordResponse(received_at="2025-02-01", summary="x")),
    (inquiry_decisions.withdraw_inquiry, c.WithdrawInquiry()),
]
ON_INQUIRY_IDS = ["follow_up", "response", "withdrawal"]
