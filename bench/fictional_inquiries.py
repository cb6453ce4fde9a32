"""A fictional case's inquiries: sent to fictional institutions, followed up, answered or
withdrawn (never before notify's overdue alert on them), paused, resumed and extended."""

from __future__ import annotations

from datetime import timedelta

from bench.fictional_case import Case, envelope, new_uuid, today
from contracts.events import (
    DeadlineExtended,
    DeadlineExtendedData,
    EventEnvelope,
    FollowUpSent,
    FollowUpSentData,
    InquiryPaused,
    InquiryPausedData,
    InquiryResumed,
    InquiryResumedData,
    InquirySent,
    InquirySentData,
    InquiryWithdrawn,
    InquiryWithdrawnData,
    OfficialResponseReceived,
    OfficialResponseReceivedData,
)
from contracts.values import Recipient

INSTITUTIONS = [
    Recipient(name=name, kind=kind, country=country) for name, kind, country in [
        ("Fictional Embassy in Astana", "embassy", "CN"),
        ("Fictional Consulate General in Almaty", "consulate", "CN"),
        ("Fictional County Police Bureau", "police", "CN"),
        ("Fictional Ministry of Foreign Affairs", "ministry", "KZ"),
        ("Fictional Ombudsperson", "other", "KZ"),
        ("Fictional UN Working Group", "un_body", "CH"),
        ("Fictional Special Rapporteur", "un_body", "CH"),
        ("Fictional Embassy in Bishkek", "embassy", "KG"),
        ("Fictional Prosecutor's Office", "prosecutor", "RU"),
        ("Fictional Regional Court", "court", "RU"),
    ]
]


def inquiry(case: Case) -> EventEnvelope:
    inquiry_id = new_uuid(case.rng)
    case.open_inquiries.append(inquiry_id)
    sent = today(case)
    due = None
    if case.rng.random() < 0.4:
        due = case.clock + timedelta(days=case.rng.choice([14, 30, 60]))
    return case.case.seal(InquirySent, **envelope(case, sent), data=InquirySentData(
        inquiry_id=inquiry_id, recipient=case.rng.choice(INSTITUTIONS),
        channel=case.rng.choice(["letter", "email", "fax", "in_person"]), sent_at=sent, due_at=due))


def follow_up(case: Case) -> EventEnvelope:
    return case.case.seal(FollowUpSent, **envelope(case, today(case)), data=FollowUpSentData(
        inquiry_id=case.rng.choice(case.open_inquiries), channel="email", sent_at=today(case)))


def answer_or_withdraw(case: Case) -> EventEnvelope | None:
    """An answer or a withdrawal of an open inquiry, none of them before its overdue alert."""
    answerable = [inquiry_id for inquiry_id in case.open_inquiries
                  if case.notify.alerted_at.get(inquiry_id, case.clock) <= case.clock]
    if not answerable:
        return None
    inquiry_id = case.rng.choice(answerable)
    case.open_inquiries.remove(inquiry_id)
    case.paused.discard(inquiry_id)
    if case.rng.random() < 0.15:
        return case.case.seal(InquiryWithdrawn, **envelope(case, today(case)),
                              data=InquiryWithdrawnData(inquiry_id=inquiry_id,
                                                        withdrawn_at=today(case)))
    return case.case.seal(OfficialResponseReceived, **envelope(case, today(case)),
                          data=OfficialResponseReceivedData(
        inquiry_id=inquiry_id, received_at=today(case),
        summary="Fictional: the institution has no record of this person.",
        classification=case.rng.choice(
            [None, "acknowledgement", "no_record", "denial", "detention_confirmed"]),
    ))


def clock_change(case: Case) -> EventEnvelope | None:
    """A paused inquiry resumes; another one is paused, or given until later to answer."""
    if case.paused:
        inquiry_id = sorted(case.paused)[0]
        case.paused.discard(inquiry_id)
        return case.case.seal(InquiryResumed, **envelope(case, today(case)),
                              data=InquiryResumedData(inquiry_id=inquiry_id,
                                                      resumed_on=case.clock.date()))
    candidates = [i for i in case.open_inquiries if case.notify.may_pause(i)]
    if not candidates:
        return None
    inquiry_id = case.rng.choice(candidates)
    if case.rng.random() < 0.5:
        case.paused.add(inquiry_id)
        return case.case.seal(InquiryPaused, **envelope(case, today(case)),
                              data=InquiryPausedData(inquiry_id=inquiry_id,
                                                     paused_on=case.clock.date(),
                                                     reason="Fictional: documents requested."))
    return case.case.seal(DeadlineExtended, **envelope(case, today(case)),
                          data=DeadlineExtendedData(
        inquiry_id=inquiry_id, due_at=case.clock + timedelta(days=case.rng.choice([30, 60])),
        reason="Fictional: an answer was promised after the holidays."))
