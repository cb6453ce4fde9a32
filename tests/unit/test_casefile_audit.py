"""Chain audits, recipients' answer rates and unreadable messages, without I/O."""

from __future__ import annotations

import json
from dataclasses import dataclass
from uuid import uuid4

from contracts import encode_event
from contracts.chain import event_hash
from services.casefile.chain_audit import audit_stream
from services.casefile.decoding import Decoded, Undecodable, decode
from services.casefile.projections import ANSWERED, AWAITING, OVERDUE, WITHDRAWN
from services.casefile.recipients import summarise
from tests.unit.test_casefile_projections import CASE, contact_lost, report


def chain(length: int) -> list:
    """A case's first events, properly chained as intake would write them."""
    events = [report(1)]
    for sequence in range(2, length + 1):
        events.append(contact_lost(sequence, f"{2000 + sequence}").model_copy(
            update={"prev_hash": events[-1].hash}))
        events[-1] = _resealed(events[-1])
    return events


def _resealed(event):
    return event.model_copy(update={"hash": event_hash(event)})


def test_an_intact_stream_verifies_in_any_order_and_with_redeliveries():
    events = chain(4)
    audit = audit_stream(CASE, "case", [events[2], events[0], events[3], events[1], events[0]])
    assert audit.intact and audit.events == 4 and audit.head_hash == events[3].hash


def test_a_gap_names_the_missing_sequence_and_the_event_after_it():
    events = chain(5)
    audit = audit_stream(CASE, "case", [events[0], events[1], events[4]])
    assert not audit.intact
    broken = audit.broken
    assert (broken.kind, broken.sequence, broken.event_id) == ("gap", 5, events[4].event_id)
    assert broken.reason == "sequences 3 to 4 are missing"


def test_altered_bytes_are_caught_at_the_altered_event():
    events = chain(3)
    altered = events[1].model_copy(update={"actor": "someone-else"})  # hash no longer matches
    audit = audit_stream(CASE, "case", [events[0], altered, events[2]])
    assert (audit.broken.kind, audit.broken.sequence, audit.broken.event_id) == (
        "bytes", 2, events[1].event_id)


def test_a_resealed_forgery_is_caught_by_the_next_link():
    events = chain(3)
    forged = _resealed(events[1].model_copy(update={"actor": "someone-else"}))
    audit = audit_stream(CASE, "case", [events[0], forged, events[2]])
    assert (audit.broken.kind, audit.broken.sequence) == ("link", 3)


def test_two_events_claiming_one_sequence_is_a_fork():
    events = chain(2)
    rival = _resealed(contact_lost(2, "1999").model_copy(update={"prev_hash": events[0].hash}))
    audit = audit_stream(CASE, "case", [*events, rival])
    assert audit.broken.kind == "fork" and audit.broken.sequence == 2


def test_one_event_id_with_two_different_contents_is_reported():
    events = chain(2)
    copy = events[1].model_copy(update={"actor": "someone-else"})
    audit = audit_stream(CASE, "case", [*events, copy])
    assert audit.broken.kind == "differing_copies" and audit.broken.event_id == events[1].event_id


@dataclass
class Row:
    recipient_key: str | None
    recipient_name: str | None
    state: str
    days_to_answer: int | None = None
    recipient_kind: str | None = "embassy"
    recipient_country: str | None = "CN"


def test_recipients_show_who_answers_how_fast_and_who_never_does():
    silent = "CN|embassy|fictional embassy"
    answering = "KZ|ministry|fictional ministry"
    rows = [
        Row(silent, "Fictional Embassy", OVERDUE), Row(silent, "FICTIONAL EMBASSY", OVERDUE),
        Row(silent, "Fictional Embassy", OVERDUE), Row(silent, "Fictional Embassy", ANSWERED, 90),
        Row(silent, "Fictional Embassy", AWAITING), Row(silent, "Fictional Embassy", WITHDRAWN),
        Row(answering, "Fictional Ministry", ANSWERED, 10, "ministry", "KZ"),
        Row(answering, "Fictional Ministry", ANSWERED, 30, "ministry", "KZ"),
        Row(answering, "Fictional Ministry", ANSWERED, None, "ministry", "KZ"),
        Row(None, None, OVERDUE),  # an alert whose inquiry_sent has not arrived: no institution
    ]
    embassy, ministry = summarise(rows)

    assert (embassy.name, embassy.sent, embassy.answered, embassy.overdue, embassy.awaiting,
            embassy.withdrawn) == ("Fictional Embassy", 6, 1, 3, 1, 1)
    assert embassy.never_answered_share == 0.75  # 3 of the 4 whose window closed
    assert embassy.median_days_to_answer == 90.0
    assert (ministry.sent, ministry.median_days_to_answer, ministry.never_answered_share) == (
        3, 20.0, 0.0)


def test_a_recipient_with_nothing_due_yet_has_no_share_rather_than_zero():
    (only,) = summarise([Row("CN|embassy|x", "X", AWAITING)])
    assert only.never_answered_share is None and only.median_days_to_answer is None


def test_a_valid_message_decodes_to_the_event_and_keeps_its_bytes():
    event = report(1)
    body = encode_event(event)
    decoded = decode(body, str(CASE).encode())
    assert isinstance(decoded, Decoded)
    assert (decoded.event, decoded.body, decoded.recorded_version) == (event, body.decode(), 1)


def test_an_unreadable_message_names_the_problem_but_not_the_content():
    body = json.loads(encode_event(report(1)))
    del body["data"]["summary"]
    body["data"]["subject"]["name"] = ""
    decoded = decode(json.dumps(body).encode(), str(CASE).encode())
    assert isinstance(decoded, Undecodable) and decoded.case_id == CASE
    assert "missing at " in decoded.reason and "data.summary" in decoded.reason
    assert "Fictional" not in decoded.reason


def test_the_case_of_an_unreadable_message_comes_from_its_key_or_failing_that_its_body():
    other = uuid4()
    assert decode(b"not json", str(other).encode()).case_id == other
    assert decode(json.dumps({"case_id": str(other)}).encode(), b"junk").case_id == other
    assert decode(b"\xff\xfe", None) == Undecodable("undecodable: not UTF-8", None)
    assert decode(b"{}", None).case_id is None
