"""Which institutions answer and which never do: inquiries summed up per recipient. Pure."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import median
from typing import Protocol

from services.casefile.projections import ANSWERED, AWAITING, OVERDUE, PAUSED, WITHDRAWN


class InquiryFacts(Protocol):
    recipient_key: str | None
    recipient_name: str | None
    recipient_kind: str | None
    recipient_country: str | None
    state: str
    days_to_answer: int | None


@dataclass(frozen=True)
class RecipientStats:
    recipient_key: str
    name: str
    kind: str
    country: str
    sent: int
    answered: int
    awaiting: int  # still within their response window
    overdue: int  # past their deadline with no answer
    withdrawn: int
    median_days_to_answer: float | None  # over answers dated to the day
    never_answered_share: float | None  # overdue / (answered + overdue)


def summarise(inquiries: Iterable[InquiryFacts]) -> list[RecipientStats]:
    """One line per institution, most inquiries first.

    "Never answered" counts only inquiries whose window has closed: one still awaiting its
    deadline says nothing yet about the institution, and a withdrawn one was never its to answer.
    """
    groups: dict[str, list[InquiryFacts]] = defaultdict(list)
    for inquiry in inquiries:
        if inquiry.recipient_key is not None:
            groups[inquiry.recipient_key].append(inquiry)
    stats = [_stats(key, members) for key, members in groups.items()]
    return sorted(stats, key=lambda s: (-s.sent, s.country, s.kind, s.name, s.recipient_key))


def _stats(key: str, inquiries: list[InquiryFacts]) -> RecipientStats:
    states = Counter(i.state for i in inquiries)
    days = [i.days_to_answer for i in inquiries
            if i.state == ANSWERED and i.days_to_answer is not None]
    closed = states[ANSWERED] + states[OVERDUE]
    names = Counter(i.recipient_name for i in inquiries)
    # the spelling used most often, the alphabetically first on a tie: the same on every replay
    name = min(names, key=lambda n: (-names[n], n))
    first = inquiries[0]
    return RecipientStats(
        recipient_key=key, name=name, kind=first.recipient_kind, country=first.recipient_country,
        sent=len(inquiries), answered=states[ANSWERED], awaiting=states[AWAITING] + states[PAUSED],
        overdue=states[OVERDUE], withdrawn=states[WITHDRAWN],
        median_days_to_answer=float(median(days)) if days else None,
        never_answered_share=round(states[OVERDUE] / closed, 4) if closed else None,
    )
