"""A fictional event log for benchmarks: many cases, every kind of event, as the services write it.

Each case opens with its report and goes on with a realistic mix: contact lost and restored
(the oldest cases in contact_lost's version 1, the rest in version 2), family check-ins,
information of every reliability, status changes, reprisals, public actions, notes, evidence,
assignments, inquiries with follow-ups, pauses, extensions, answers and withdrawals, and the
occasional closing and reopening, consent changes and export restrictions, and now and then
a subject erased (a case's state: bench.fictional_case; its inquiries:
bench.fictional_inquiries). Notify's stream of each case (bench.fictional_alerts) holds what
notify would write: deadlines by its own rules and policies, and alerts with their lifecycle;
a quarter of the inquiries go unanswered past their deadline (any answer comes after the
alert). Every event is sealed and chained per stream exactly as intake and notify do, so the
log verifies, with every personal field encrypted by the case's key as intake encrypts it
(keys and nonces drawn from the seed: the same seed gives the same log). Every name, place
and text is fictional.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from bench.fictional_alerts import NotifySide
from bench.fictional_case import (
    ALERT,
    CASE,
    CASEWORKERS,
    PLACES,
    START,
    Case,
    Stream,
    envelope,
    new_uuid,
    past,
    today,
)
from bench.fictional_inquiries import answer_or_withdraw, clock_change, follow_up, inquiry
from contracts import encode_event
from contracts.events import (
    CaseAssigned,
    CaseAssignedData,
    CaseClosed,
    CaseClosedData,
    CaseReopened,
    CaseReopenedData,
    ConsentChanged,
    ConsentChangedData,
    ContactLost,
    ContactLostData,
    ContactLostDataV1,
    ContactLostV1,
    ContactRestored,
    ContactRestoredData,
    EventEnvelope,
    EvidenceAttached,
    EvidenceAttachedData,
    ExportRestrictionsSet,
    ExportRestrictionsSetData,
    FamilyCheckedIn,
    FamilyCheckedInData,
    InformationReceived,
    InformationReceivedData,
    LastContact,
    NoteAdded,
    NoteAddedData,
    PublicActionTaken,
    PublicActionTakenData,
    ReportReceived,
    ReportReceivedData,
    StatusChanged,
    StatusChangedData,
    SubjectErased,
    SubjectErasedData,
    ThreatReported,
    ThreatReportedData,
)
from contracts.personal_data import FieldCipher
from contracts.values import Consent, PersonName, Reporter, Subject

ERASED_EVERY = 50  # one case in so many ends with its subject erased


@dataclass(frozen=True)
class Message:
    stream: str  # case (intake's topic) or alert (notify's)
    key: bytes
    value: bytes
    type: str
    event_id: UUID


def generate(cases: int, events: int, *, seed: int = 7) -> Iterator[Message]:
    """At least `events` case events over `cases` cases (alerts come on top), case by case."""
    rng = random.Random(seed)
    per_case, extra = divmod(events, cases)
    for number in range(cases):
        case_id = new_uuid(rng)
        case_rng, opened = random.Random(rng.getrandbits(64)), START + timedelta(hours=number)
        cipher = FieldCipher(case_id, case_rng.randbytes(32), nonces=case_rng.randbytes)
        case = Case(number, case_rng, Stream(case_id, CASE, cipher), opened,
                     legacy=number < cases // 3,
                     notify=NotifySide(Stream(case_id, ALERT).seal, case_rng, opened))
        count = per_case + (1 if number < extra else 0)
        yield from _case_events(case, count)


def _case_events(case: Case, count: int) -> Iterator[Message]:
    erased = count > 2 and case.number % ERASED_EVERY == ERASED_EVERY - 1
    yield _message(case, _report(case))
    yield _message(case, _contact_lost(case, past(case)))
    for _ in range(count - 2 - erased):
        event = _next_event(case)
        yield _message(case, event)
        # On another topic, so its place among the case's events does not matter.
        for decided in case.notify.after(event):
            yield _message(case, decided)
    if erased:  # the case's last event: nothing is recorded on it afterwards
        erasure = case.case.seal(SubjectErased, **envelope(case, today(case), "admin-1"),
                                 data=SubjectErasedData(reason="family_request"))
        yield _message(case, erasure)


def _message(case: Case, event: EventEnvelope) -> Message:
    stream = ALERT if event.actor == "notify" else CASE
    return Message(stream, str(case.case.case_id).encode(), encode_event(event), event.type,
                   event.event_id)


def _report(case: Case) -> EventEnvelope:
    rng, number = case.rng, case.number
    others = [PersonName(value=f"Фиктивный Человек {number:05d}", kind="russian_cyrillic")]
    case.consent = Consent(share_with_un_bodies=rng.random() < 0.7,
                           share_with_media=rng.random() < 0.3)
    if rng.random() < 0.5:
        others.append(PersonName(value=f"虚构 {number:05d}", kind="chinese"))
    return case.case.seal(ReportReceived, **envelope(case, f"{case.clock:%Y-%m-%d}"),
                          data=ReportReceivedData(
        subject=Subject(name=f"Fictional Person {number:05d}", other_names=others,
                        date_of_birth=f"{rng.randint(1940, 2005)}", citizenships=["CN"],
                        last_known_place=rng.choice(PLACES)),
        reporter=Reporter(name=f"Fictional Relative {number:05d}",
                          relationship=rng.choice(["daughter", "son", "sister", "brother"])),
        summary="Fictional benchmark case: did not return from a visit to relatives.",
        consent=case.consent,
    ))


def _contact_lost(case: Case, when: str) -> EventEnvelope:
    case.in_contact = False
    if case.legacy:
        return case.case.seal(ContactLostV1, **envelope(case, when), data=ContactLostDataV1(
            last_contact_at=when, channel="phone", circumstances="Fictional: phone switched off."))
    return case.case.seal(ContactLost, **envelope(case, when), data=ContactLostData(
        last_contact=LastContact(at=when, channel="messenger", place=case.rng.choice(PLACES)),
        circumstances="Fictional: messages stopped."))


def _contact_change(case: Case) -> EventEnvelope:
    """Contact comes back, or is lost again once it had come back."""
    if case.in_contact:
        return _contact_lost(case, today(case))
    case.in_contact = True
    return case.case.seal(ContactRestored, **envelope(case, today(case)),
                          data=ContactRestoredData(restored_at=today(case), channel="video_call",
                                                   circumstances="Fictional: a short call."))


def _next_event(case: Case) -> EventEnvelope:
    if case.closed:
        case.closed = False
        return case.case.seal(CaseReopened, **envelope(case, today(case)),
                              data=CaseReopenedData(reason="Fictional: new information arrived."))
    roll = case.rng.random()
    if roll < 0.22 or not case.open_inquiries:
        return inquiry(case)
    if roll < 0.36:
        return follow_up(case)
    if roll < 0.46:
        return answer_or_withdraw(case) or follow_up(case)
    if roll < 0.50:
        return clock_change(case) or follow_up(case)
    return case.rng.choice(_OTHERS)(case)


def _information(case: Case) -> EventEnvelope:
    return case.case.seal(InformationReceived, **envelope(case, today(case)),
                          data=InformationReceivedData(
        received_at=today(case), source="a fictional former detainee",
        reliability=case.rng.choice(["rumour", "unverified", "confirmed"]),
        content="Fictional: said to be held in a facility near the city."))


def _status(case: Case) -> EventEnvelope:
    effective = past(case)
    return case.case.seal(StatusChanged, **envelope(case, effective), data=StatusChangedData(
        status=case.rng.choice(["detained", "in_camp", "sentenced", "released", "unknown"]),
        effective_at=effective, source="Fictional account."))


def _threat(case: Case) -> EventEnvelope:
    when = past(case)
    return case.case.seal(ThreatReported, **envelope(case, when), data=ThreatReportedData(
        target=case.rng.choice(["family", "reporter", "advocate"]),
        kind=case.rng.choice(["threat", "questioning", "surveillance", "hacking"]),
        happened_at=when, description="Fictional: relatives were questioned about the NGO."))


def _public_action(case: Case) -> EventEnvelope:
    """Only before the audiences the family agreed to, as intake allows."""
    kinds = ["other"] + (["un_submission"] if case.consent.share_with_un_bodies else []) + (
        ["protest", "media"] if case.consent.share_with_media else [])
    return case.case.seal(PublicActionTaken, **envelope(case, today(case)),
                          data=PublicActionTakenData(
        kind=case.rng.choice(kinds), taken_at=today(case),
        description="Fictional: a statement was published."))


def _consent(case: Case) -> EventEnvelope:
    case.consent = Consent(share_with_un_bodies=case.rng.random() < 0.8,
                           share_with_media=case.rng.random() < 0.4,
                           share_with_partner_ngos=case.rng.random() < 0.8)
    return case.case.seal(ConsentChanged, **envelope(case, today(case)),
                          data=ConsentChangedData(consent=case.consent))


def _export_restrictions(case: Case) -> EventEnvelope:
    fields = case.rng.sample(["reporter", "subject.identity_documents", "threats"], k=2)
    return case.case.seal(ExportRestrictionsSet, **envelope(case, today(case)),
                          data=ExportRestrictionsSetData(
        never_export=fields, reason="Fictional: relatives still live in the region."))


def _note(case: Case) -> EventEnvelope:
    return case.case.seal(NoteAdded, **envelope(case, today(case)),
                          data=NoteAddedData(text="Fictional: called the family, no news."))


def _evidence(case: Case) -> EventEnvelope:
    return case.case.seal(EvidenceAttached, **envelope(case, today(case)),
                          data=EvidenceAttachedData(
        file_name="fictional-scan.pdf", media_type="application/pdf",
        size_bytes=case.rng.randint(1_000, 5_000_000), sha256=f"{case.rng.getrandbits(256):064x}"))


def _assignment(case: Case) -> EventEnvelope:
    case.notify.assignee = case.rng.choice(CASEWORKERS)
    return case.case.seal(CaseAssigned, **envelope(case, today(case)),
                          data=CaseAssignedData(assignee=case.notify.assignee))


def _family_check_in(case: Case) -> EventEnvelope:
    return case.case.seal(FamilyCheckedIn, **envelope(case, today(case)),
                          data=FamilyCheckedInData(checked_in_at=today(case), channel="phone",
                                                   note="Fictional: the family is safe."))


def _closed(case: Case) -> EventEnvelope:
    case.closed = True
    return case.case.seal(CaseClosed, **envelope(case, today(case)),
                          data=CaseClosedData(outcome=case.rng.choice(["released", "located"])))


_OTHERS = [_information, _information, _status, _threat, _public_action, _note, _note,
           _evidence, _assignment, _contact_change, _family_check_in, _closed, _consent,
           _export_restrictions]
