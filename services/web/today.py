"""What needs doing today, from the alerts a person may see: a pure function of the alerts,
the person and the moment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

SET_ASIDE = "Your unacknowledged alerts, set aside"
# In the order a caseworker should deal with them.
SECTIONS = (
    ("overdue", "Overdue inquiries", ("overdue", "escalation")),
    ("due_soon", "Due soon", ("reminder",)),
    ("silent", "Families silent too long", ("family_silent",)),
    ("reprisals", "New reprisal reports", ("reprisal_reported",)),
)


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    alerts: list[dict[str, Any]] = field(default_factory=list)


def today(open_alerts: Iterable[Mapping[str, Any]], set_aside: Iterable[Mapping[str, Any]],
          account: str) -> list[Section]:
    """Open alerts by kind, most urgent kind first and within a kind the longest overdue
    first; then the person's own alerts that they snoozed and nobody has acknowledged."""
    sections = []
    alerts = list(open_alerts)
    for key, title, kinds in SECTIONS:
        chosen = sorted((dict(a) for a in alerts if a["kind"] in kinds),
                        key=lambda a: (a["due_at"], str(a["alert_id"])))
        sections.append(Section(key, title, chosen))
    mine = sorted((dict(a) for a in set_aside
                   if account in a.get("recipients", ()) and a.get("acknowledged_by") is None),
                  key=lambda a: (a.get("snoozed_until") or "", str(a["alert_id"])))
    sections.append(Section("set_aside", SET_ASIDE, mine))
    return sections
