"""An advocate's daily digest: every alert of the day on one page, overdue inquiries first.

Like a single alert it names cases only by their short reference (and a link), never by
anything from the case itself.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from contracts.alert_events import AlertKind
from services.notify.channels.message import (
    DELIVERY_NAMESPACE,
    KIND_LABELS,
    case_link,
    case_reference,
    utc_text,
)

# The order sections appear in: what is already late, then what is urgent, then what is near.
KIND_ORDER: tuple[AlertKind, ...] = (
    AlertKind.OVERDUE,
    AlertKind.ESCALATION,
    AlertKind.REPRISAL_REPORTED,
    AlertKind.FAMILY_SILENT,
    AlertKind.REMINDER,
)

# A state is a word of notify's (open, acknowledged, snoozed...), never text from a person.
_STATE = re.compile(r"[a-z][a-z_]{0,39}")


@dataclass(frozen=True)
class DigestEntry:
    kind: str
    case_id: UUID
    due_at: datetime
    raised_at: datetime
    state: str

    def __post_init__(self) -> None:
        AlertKind(self.kind)
        if not _STATE.fullmatch(self.state):
            raise ValueError("state must be a lower-case word such as 'open' or 'acknowledged'")
        for name in ("due_at", "raised_at"):
            if getattr(self, name).utcoffset() is None:
                raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True)
class Digest:
    recipient: str  # the advocate's account id
    day: date
    subject: str
    text: str

    @property
    def digest_id(self) -> UUID:
        """One per advocate and day: a digest re-sent after a crash is the same mail."""
        return uuid.uuid5(DELIVERY_NAMESPACE, f"digest:{self.day.isoformat()}:{self.recipient}")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def render_digest(recipient: str, day: date, entries: list[DigestEntry], *,
                  public_base_url: str | None = None) -> Digest:
    """Sections by kind in KIND_ORDER; within one, the earliest due first."""
    cases = {entry.case_id for entry in entries}
    # A stable subject per day (the count aside), so clients group the digests together.
    subject = f"[Casetracker] Daily digest {day.isoformat()}: {_plural(len(entries), 'alert')}"
    lines = [f"Your alerts on {day.isoformat()}: {_plural(len(entries), 'alert')} on "
             f"{_plural(len(cases), 'case')}."]
    if not entries:
        lines.append("Nothing is waiting for you.")
    for kind in KIND_ORDER:
        section = sorted((e for e in entries if AlertKind(e.kind) is kind),
                         key=lambda e: (e.due_at, e.case_id.hex))
        if not section:
            continue
        lines += ["", f"{KIND_LABELS[kind]} ({len(section)})"]
        for entry in section:
            lines.append(f"  - case {case_reference(entry.case_id)}, due "
                         f"{utc_text(entry.due_at)}, raised {utc_text(entry.raised_at)}, "
                         f"{entry.state}")
            if public_base_url:
                lines.append(f"    {case_link(public_base_url, entry.case_id)}")
    lines += ["", "The details are in the case tracker only: sign in to see them. "
                  "Please do not reply to this message."]
    return Digest(recipient, day, subject, "\n".join(lines) + "\n")
