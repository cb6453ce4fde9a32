"""The whole file of one case, folded from its events: what a caseworker opens, and what an
auditor replays as of a date. Pure: the same events always give the same file.

The list views (store.CaseSummary, store.Inquiry) are kept up to date incrementally with the
same `projections.apply`; folding a case's stored events here gives the same case and
inquiries, plus the details only a single case needs (people, consent, information, threats).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from contracts.events import (
    CaseClosed,
    CaseReopened,
    ConsentChanged,
    EventEnvelope,
    ExportRestrictionsSet,
    InformationReceived,
    ReportReceived,
    SubjectErased,
    ThreatReported,
)
from contracts.partial_dates import sort_key
from services.casefile import projections
from services.casefile.projections import CaseView, InquiryView, instant


@dataclass(frozen=True)
class Information:
    event_id: UUID
    received_at: str
    reliability: str
    source: str
    content: str


@dataclass(frozen=True)
class Threat:
    event_id: UUID
    happened_at: str
    target: str
    kind: str
    description: str
    recorded_at: str


@dataclass(frozen=True)
class Erasure:
    erased_at: str
    reason: str
    by: str


@dataclass(frozen=True)
class CaseFile:
    case: CaseView
    inquiries: list[InquiryView]
    subject: dict[str, Any] | None = None
    reporter: dict[str, Any] | None = None
    report_summary: str | None = None
    consent: dict[str, bool] = field(default_factory=dict)
    latest_information: Information | None = None
    information_received: int = 0
    threats: list[Threat] = field(default_factory=list)
    closed_outcome: str | None = None
    erasure: Erasure | None = None
    never_export: list[str] = field(default_factory=list)  # parts of the case, by ExportField
    events: int = 0


def every_field(value: Any) -> Any:
    """A value of an event as plain data with all its fields, unset ones too: on the log a
    field added later is left out while at its default, but a view keeps one shape."""
    if isinstance(value, BaseModel):
        return {name: every_field(getattr(value, name)) for name in type(value).model_fields}
    if isinstance(value, list | tuple):
        return [every_field(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    return value


def fold_case(events: Iterable[tuple[str, EventEnvelope]]) -> CaseFile | None:
    """Fold (stream, event) pairs of one case, already deduplicated, into its file.

    Events must come in each stream's sequence order; how the two streams interleave does
    not matter. None if there are no events (the case was not known).
    """
    case: CaseView | None = None
    inquiries: dict[UUID, InquiryView] = {}
    details: dict[str, Any] = {"consent": {}, "threats": [], "information_received": 0}
    latest_info_key: str | None = None
    count = 0
    for stream, event in events:
        count += 1
        inquiry_id = projections.inquiry_id_of(event)
        before = inquiries.get(inquiry_id) if inquiry_id else None
        after = projections.project_inquiry(before, event)
        case = projections.project_case(
            case, event, stream=stream, inquiry_before=before, inquiry_after=after
        )
        if after is not None:
            inquiries[after.inquiry_id] = after
        if isinstance(event, ReportReceived):
            details.update(subject=every_field(event.data.subject),
                           reporter=every_field(event.data.reporter),
                           report_summary=event.data.summary,
                           consent=every_field(event.data.consent))
        elif isinstance(event, InformationReceived):
            details["information_received"] += 1
            key = f"{sort_key(event.data.received_at)}#{event.sequence:012d}"
            if latest_info_key is None or key > latest_info_key:
                latest_info_key = key
                details["latest_information"] = Information(
                    event_id=event.event_id, received_at=event.data.received_at,
                    reliability=event.data.reliability.value, source=event.data.source,
                    content=event.data.content,
                )
        elif isinstance(event, ThreatReported):
            details["threats"].append(Threat(
                event_id=event.event_id, happened_at=event.data.happened_at,
                target=event.data.target.value, kind=event.data.kind.value,
                description=event.data.description, recorded_at=instant(event.recorded_at),
            ))
        elif isinstance(event, CaseClosed):
            details["closed_outcome"] = event.data.outcome.value
        elif isinstance(event, CaseReopened):
            details["closed_outcome"] = None
        elif isinstance(event, ConsentChanged):
            details["consent"] = every_field(event.data.consent)
        elif isinstance(event, ExportRestrictionsSet):
            details["never_export"] = sorted(f.value for f in event.data.never_export)
        elif isinstance(event, SubjectErased):
            details["erasure"] = Erasure(erased_at=instant(event.recorded_at),
                                         reason=event.data.reason.value, by=event.actor)
    if case is None:
        return None
    details["threats"].sort(key=lambda t: (sort_key(t.happened_at), t.recorded_at, t.event_id))
    ordered = sorted(
        inquiries.values(),
        key=lambda i: (i.sent_sort is None, i.sent_sort or "", str(i.inquiry_id)),
    )
    return CaseFile(case=case, inquiries=ordered, events=count, **details)
