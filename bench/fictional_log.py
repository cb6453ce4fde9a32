"""A fictional event log for benchmarks: many cases, every kind of event, as the services write it.

Each case opens with its report and goes on with a realistic mix: contact lost and restored
(the oldest cases in contact_lost's version 1, the rest in version 2), family check-ins,
information of every reliability, status changes, reprisals, public actions, notes, evidence,
assignments, inquiries with follow-ups, pauses, extensions, answers and withdrawals, and the
occasional closing and reopening, and now and then a subject erased. Notify's stream of each
case (bench.fictional_alerts) holds
what notify would write: deadlines by its own rules and policies, and alerts with their
lifecycle; a quarter of the inquiries go unanswered past their deadline (any answer comes
after the alert). Every event is sealed and chained per stream exactly as intake and notify
do, so the log verifies, with every personal field encrypted by the case's key as intake
encrypts it (keys and nonces drawn from the seed: the same seed gives the same log). Every
name, place and text is fictional.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from bench.fictional_alerts import NotifySide
from contracts import encode_event
from contracts.chain import seal
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
    DeadlineExtended,
    DeadlineExtendedData,
    EventEnvelope,
    EvidenceAttached,
    EvidenceAttachedData,
    ExportRestrictionsSet,
    ExportRestrictionsSetData,
    FamilyCheckedIn,
    FamilyCheckedInData,
    FollowUpSent,
    FollowUpSentData,
    InformationReceived,
    InformationReceivedData,
    InquiryPaused,
    InquiryPausedData,
    InquiryResumed,
    InquiryResumedData,
    InquirySent,
    InquirySentData,
    InquiryWithdrawn,
    InquiryWithdrawnData,
    LastContact,
    NoteAdded,
    NoteAddedData,
    OfficialResponseReceived,
    OfficialResponseReceivedData,
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
from contracts.personal_data import FieldCipher, encrypt_personal_data
from contracts.values import Consent, PersonName, Recipient, Reporter, Subject

CASE, ALERT = "case", "alert"
CASEWORKERS = [f"caseworker-{n}" for n in range(1, 13)]
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
PLACES = ["Fictional border post", "Fictional town", "Fictional airport", "Fictional market"]
START = datetime(2018, 1, 1, 9, 0, tzinfo=UTC)
ERASED_EVERY = 50  # one case in so many ends with its subject erased


@dataclass(frozen=True)
class Message:
    stream: str  # case (intake's topic) or alert (notify's)
    key: bytes
    value: bytes
    type: str
    event_id: UUID


@dataclass
class _Stream:
    """One producer's chain of one case: sequences and prev_hash as the services keep them."""

    case_id: UUID
    name: str
    cipher: FieldCipher | None = None  # intake's stream: its personal data is encrypted
    events: int = 0
    head: str | None = None

    def seal(self, event_type: type[EventEnvelope], **fields) -> EventEnvelope:
        self.events += 1
        if self.cipher is not None:
            fields["data"] = encrypt_personal_data(fields["data"], self.cipher.encrypt)
        event = seal(event_type, case_id=self.case_id, sequence=self.events, prev_hash=self.head,
                     **fields)
        self.head = event.hash
        return event


@dataclass
class _Case:
    number: int
    rng: random.Random
    case: _Stream
    clock: datetime
    legacy: bool  # recorded before contact_lost had its version 2
    notify: NotifySide
    open_inquiries: list[UUID] = field(default_factory=list)
    paused: set[UUID] = field(default_factory=set)
    in_contact: bool = True
    closed: bool = False
    consent: Consent = field(default_factory=Consent)


def generate(cases: int, events: int, *, seed: int = 7) -> Iterator[Message]:
    """At least `events` case events over `cases` cases (alerts come on top), case by case."""
    rng = random.Random(seed)
    per_case, extra = divmod(events, cases)
    for number in range(cases):
        case_id = _uuid(rng)
        case_rng, opened = random.Random(rng.getrandbits(64)), START + timedelta(hours=number)
        cipher = FieldCipher(case_id, case_rng.randbytes(32), nonces=case_rng.randbytes)
        case = _Case(number, case_rng, _Stream(case_id, CASE, cipher), opened,
                     legacy=number < cases // 3,
                     notify=NotifySide(_Stream(case_id, ALERT).seal, case_rng, opened))
        count = per_case + (1 if number < extra else 0)
        yield from _case_events(case, count)


def _case_events(case: _Case, count: int) -> Iterator[Message]:
    erased = count > 2 and case.number % ERASED_EVERY == ERASED_EVERY - 1
    yield _message(case, _report(case))
    yield _message(case, _contact_lost(case, _past(case)))
    for _ in range(count - 2 - erased):
        event = _next_event(case)
        yield _message(case, event)
        # On another topic, so its place among the case's events does not matter.
        for decided in case.notify.after(event):
            yield _message(case, decided)
    if erased:  # the case's last event: nothing is recorded on it afterwards
        erasure = case.case.seal(SubjectErased, **_envelope(case, _today(case), "admin-1"),
                                 data=SubjectErasedData(reason="family_request"))
        yield _message(case, erasure)


def _message(case: _Case, event: EventEnvelope) -> Message:
    stream = ALERT if event.actor == "notify" else CASE
    return Message(stream, str(case.case.case_id).encode(), encode_event(event), event.type,
                   event.event_id)


def _uuid(rng: random.Random) -> UUID:
    return UUID(int=rng.getrandbits(128), version=4)


def _envelope(case: _Case, occurred_at: str, actor: str | None = None) -> dict:
    case.clock += timedelta(minutes=case.rng.randint(5, 60 * 24 * 10))
    return dict(event_id=_uuid(case.rng), occurred_at=occurred_at, recorded_at=case.clock,
                actor=actor or case.rng.choice(CASEWORKERS), correlation_id=_uuid(case.rng))


def _past(case: _Case) -> str:
    """A date before now, as precisely as families tend to remember: a year, a month or a day."""
    moment = case.clock - timedelta(days=case.rng.randint(1, 2500))
    return case.rng.choice([f"{moment:%Y}", f"{moment:%Y-%m}", f"{moment:%Y-%m-%d}",
                            f"{moment:%Y-%m-%d}", moment.strftime("%Y-%m-%dT%H:%M:%SZ")])


def _today(case: _Case) -> str:
    return f"{case.clock:%Y-%m-%d}"


def _report(case: _Case) -> EventEnvelope:
    rng, number = case.rng, case.number
    others = [PersonName(value=f"Фиктивный Человек {number:05d}", kind="russian_cyrillic")]
    case.consent = Consent(share_with_un_bodies=rng.random() < 0.7,
                           share_with_media=rng.random() < 0.3)
    if rng.random() < 0.5:
        others.append(PersonName(value=f"虚构 {number:05d}", kind="chinese"))
    return case.case.seal(ReportReceived, **_envelope(case, f"{case.clock:%Y-%m-%d}"),
                          data=ReportReceivedData(
        subject=Subject(name=f"Fictional Person {number:05d}", other_names=others,
                        date_of_birth=f"{rng.randint(1940, 2005)}", citizenships=["CN"],
                        last_known_place=rng.choice(PLACES)),
        reporter=Reporter(name=f"Fictional Relative {number:05d}",
                          relationship=rng.choice(["daughter", "son", "sister", "brother"])),
        summary="Fictional benchmark case: did not return from a visit to relatives.",
        consent=case.consent,
    ))


def _contact_lost(case: _Case, when: str) -> EventEnvelope:
    case.in_contact = False
    if case.legacy:
        return case.case.seal(ContactLostV1, **_envelope(case, when), data=ContactLostDataV1(
            last_contact_at=when, channel="phone", circumstances="Fictional: phone switched off."))
    return case.case.seal(ContactLost, **_envelope(case, when), data=ContactLostData(
        last_contact=LastContact(at=when, channel="messenger", place=case.rng.choice(PLACES)),
        circumstances="Fictional: messages stopped."))


def _contact_change(case: _Case) -> EventEnvelope:
    """Contact comes back, or is lost again once it had come back."""
    if case.in_contact:
        return _contact_lost(case, _today(case))
    case.in_contact = True
    return case.case.seal(ContactRestored, **_envelope(case, _today(case)),
                          data=ContactRestoredData(restored_at=_today(case), channel="video_call",
                                                   circumstances="Fictional: a short call."))


def _next_event(case: _Case) -> EventEnvelope:
    if case.closed:
        case.closed = False
        return case.case.seal(CaseReopened, **_envelope(case, _today(case)),
                              data=CaseReopenedData(reason="Fictional: new information arrived."))
    roll = case.rng.random()
    if roll < 0.22 or not case.open_inquiries:
        return _inquiry(case)
    if roll < 0.36:
        return _follow_up(case)
    if roll < 0.46:
        return _answer_or_withdraw(case) or _follow_up(case)
    if roll < 0.50:
        return _clock_change(case) or _follow_up(case)
    return case.rng.choice(_OTHERS)(case)


def _inquiry(case: _Case) -> EventEnvelope:
    inquiry_id = _uuid(case.rng)
    case.open_inquiries.append(inquiry_id)
    sent = _today(case)
    due = None
    if case.rng.random() < 0.4:
        due = case.clock + timedelta(days=case.rng.choice([14, 30, 60]))
    return case.case.seal(InquirySent, **_envelope(case, sent), data=InquirySentData(
        inquiry_id=inquiry_id, recipient=case.rng.choice(INSTITUTIONS),
        channel=case.rng.choice(["letter", "email", "fax", "in_person"]), sent_at=sent, due_at=due))


def _follow_up(case: _Case) -> EventEnvelope:
    return case.case.seal(FollowUpSent, **_envelope(case, _today(case)), data=FollowUpSentData(
        inquiry_id=case.rng.choice(case.open_inquiries), channel="email", sent_at=_today(case)))


def _answer_or_withdraw(case: _Case) -> EventEnvelope | None:
    """An answer or a withdrawal of an open inquiry, none of them before its overdue alert."""
    answerable = [inquiry_id for inquiry_id in case.open_inquiries
                  if case.notify.alerted_at.get(inquiry_id, case.clock) <= case.clock]
    if not answerable:
        return None
    inquiry_id = case.rng.choice(answerable)
    case.open_inquiries.remove(inquiry_id)
    case.paused.discard(inquiry_id)
    if case.rng.random() < 0.15:
        return case.case.seal(InquiryWithdrawn, **_envelope(case, _today(case)),
                              data=InquiryWithdrawnData(inquiry_id=inquiry_id,
                                                        withdrawn_at=_today(case)))
    return case.case.seal(OfficialResponseReceived, **_envelope(case, _today(case)),
                          data=OfficialResponseReceivedData(
        inquiry_id=inquiry_id, received_at=_today(case),
        summary="Fictional: the institution has no record of this person.",
        classification=case.rng.choice(
            [None, "acknowledgement", "no_record", "denial", "detention_confirmed"]),
    ))


def _information(case: _Case) -> EventEnvelope:
    return case.case.seal(InformationReceived, **_envelope(case, _today(case)),
                          data=InformationReceivedData(
        received_at=_today(case), source="a fictional former detainee",
        reliability=case.rng.choice(["rumour", "unverified", "confirmed"]),
        content="Fictional: said to be held in a facility near the city."))


def _status(case: _Case) -> EventEnvelope:
    effective = _past(case)
    return case.case.seal(StatusChanged, **_envelope(case, effective), data=StatusChangedData(
        status=case.rng.choice(["detained", "in_camp", "sentenced", "released", "unknown"]),
        effective_at=effective, source="Fictional account."))


def _threat(case: _Case) -> EventEnvelope:
    when = _past(case)
    return case.case.seal(ThreatReported, **_envelope(case, when), data=ThreatReportedData(
        target=case.rng.choice(["family", "reporter", "advocate"]),
        kind=case.rng.choice(["threat", "questioning", "surveillance", "hacking"]),
        happened_at=when, description="Fictional: relatives were questioned about the NGO."))


def _public_action(case: _Case) -> EventEnvelope:
    """Only before the audiences the family agreed to, as intake allows."""
    kinds = ["other"] + (["un_submission"] if case.consent.share_with_un_bodies else []) + (
        ["protest", "media"] if case.consent.share_with_media else [])
    return case.case.seal(PublicActionTaken, **_envelope(case, _today(case)),
                          data=PublicActionTakenData(
        kind=case.rng.choice(kinds), taken_at=_today(case),
        description="Fictional: a statement was published."))


def _consent(case: _Case) -> EventEnvelope:
    case.consent = Consent(share_with_un_bodies=case.rng.random() < 0.8,
                           share_with_media=case.rng.random() < 0.4,
                           share_with_partner_ngos=case.rng.random() < 0.8)
    return case.case.seal(ConsentChanged, **_envelope(case, _today(case)),
                          data=ConsentChangedData(consent=case.consent))


def _export_restrictions(case: _Case) -> EventEnvelope:
    fields = case.rng.sample(["reporter", "subject.identity_documents", "threats"], k=2)
    return case.case.seal(ExportRestrictionsSet, **_envelope(case, _today(case)),
                          data=ExportRestrictionsSetData(
        never_export=fields, reason="Fictional: relatives still live in the region."))


def _note(case: _Case) -> EventEnvelope:
    return case.case.seal(NoteAdded, **_envelope(case, _today(case)),
                          data=NoteAddedData(text="Fictional: called the family, no news."))


def _evidence(case: _Case) -> EventEnvelope:
    return case.case.seal(EvidenceAttached, **_envelope(case, _today(case)),
                          data=EvidenceAttachedData(
        file_name="fictional-scan.pdf", media_type="application/pdf",
        size_bytes=case.rng.randint(1_000, 5_000_000), sha256=f"{case.rng.getrandbits(256):064x}"))


def _assignment(case: _Case) -> EventEnvelope:
    case.notify.assignee = case.rng.choice(CASEWORKERS)
    return case.case.seal(CaseAssigned, **_envelope(case, _today(case)),
                          data=CaseAssignedData(assignee=case.notify.assignee))


def _clock_change(case: _Case) -> EventEnvelope | None:
    """A paused inquiry resumes; another one is paused, or given until later to answer."""
    if case.paused:
        inquiry_id = sorted(case.paused)[0]
        case.paused.discard(inquiry_id)
        return case.case.seal(InquiryResumed, **_envelope(case, _today(case)),
                              data=InquiryResumedData(inquiry_id=inquiry_id,
                                                      resumed_on=case.clock.date()))
    candidates = [i for i in case.open_inquiries if case.notify.may_pause(i)]
    if not candidates:
        return None
    inquiry_id = case.rng.choice(candidates)
    if case.rng.random() < 0.5:
        case.paused.add(inquiry_id)
        return case.case.seal(InquiryPaused, **_envelope(case, _today(case)),
                              data=InquiryPausedData(inquiry_id=inquiry_id,
                                                     paused_on=case.clock.date(),
                                                     reason="Fictional: documents requested."))
    return case.case.seal(DeadlineExtended, **_envelope(case, _today(case)),
                          data=DeadlineExtendedData(
        inquiry_id=inquiry_id, due_at=case.clock + timedelta(days=case.rng.choice([30, 60])),
        reason="Fictional: an answer was promised after the holidays."))


def _family_check_in(case: _Case) -> EventEnvelope:
    return case.case.seal(FamilyCheckedIn, **_envelope(case, _today(case)),
                          data=FamilyCheckedInData(checked_in_at=_today(case), channel="phone",
                                                   note="Fictional: the family is safe."))


def _closed(case: _Case) -> EventEnvelope:
    case.closed = True
    return case.case.seal(CaseClosed, **_envelope(case, _today(case)),
                          data=CaseClosedData(outcome=case.rng.choice(["released", "located"])))


_OTHERS = [_information, _information, _status, _threat, _public_action, _note, _note,
           _evidence, _assignment, _contact_change, _family_check_in, _closed, _consent,
           _export_restrictions]
