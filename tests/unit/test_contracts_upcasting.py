"""Two versions of contact_lost on one log: old events keep their bytes, consumers read them
as the current version, and hash chains are checked on what was recorded."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from pydantic import ValidationError

from contracts import ContactLost, ContactLostV1, decode_event, encode_event, read_event, upcast
from contracts.chain import BrokenChain, seal, verify_chain
from contracts.events import (
    ContactLostData,
    ContactLostDataV1,
    LastContact,
    NoteAdded,
    NoteAddedData,
)

CASE = uuid4()
RECORDED = datetime(2019, 6, 1, 12, 0, tzinfo=UTC)


def chained(events_and_data: list[tuple[type, object, str]]) -> list:
    """One case's stream, each event sealed and linked to the one before."""
    events: list = []
    for sequence, (event_type, data, occurred_at) in enumerate(events_and_data, start=1):
        events.append(seal(
            event_type, event_id=uuid4(), case_id=CASE, sequence=sequence,
            occurred_at=occurred_at, recorded_at=RECORDED + timedelta(days=sequence),
            actor="caseworker-legacy", correlation_id=uuid4(),
            prev_hash=events[-1].hash if events else None, data=data,
        ))
    return events


V1_DATA = ContactLostDataV1(last_contact_at="2017-05", channel="phone",
                            circumstances="Fictional: the phone was switched off.")
V2_DATA = ContactLostData(
    last_contact=LastContact(at="2019-02", channel="messenger", place="Fictional town"),
    circumstances="Fictional: messages stopped.")


def mixed_log() -> list:
    return chained([
        (ContactLostV1, V1_DATA, "2017-05"),
        (NoteAdded, NoteAddedData(text="Fictional note."), "2019-01"),
        (ContactLost, V2_DATA, "2019-02"),
    ])


def test_a_version_1_event_decodes_as_recorded_and_keeps_its_bytes():
    v1 = mixed_log()[0]
    raw = encode_event(v1)
    decoded = decode_event(raw)
    assert isinstance(decoded, ContactLostV1) and decoded.schema_version == 1
    assert encode_event(decoded) == raw
    assert json.loads(raw)["data"] == {"last_contact_at": "2017-05", "channel": "phone",
                                       "circumstances": "Fictional: the phone was switched off."}


def test_upcasting_moves_version_1_into_the_current_shape_and_keeps_the_envelope():
    v1 = mixed_log()[0]
    current = upcast(v1)
    assert isinstance(current, ContactLost) and current.schema_version == 2
    assert current.data.last_contact == LastContact(at="2017-05", channel="phone", place=None)
    assert current.data.circumstances == V1_DATA.circumstances
    envelope = {"event_id", "case_id", "sequence", "occurred_at", "recorded_at", "actor",
                "correlation_id", "causation_id", "prev_hash", "hash"}
    assert current.model_dump(include=envelope) == v1.model_dump(include=envelope)


def test_consumers_read_every_version_as_the_current_one():
    log = mixed_log()
    read = [read_event(encode_event(e)) for e in log]
    assert [type(e).__name__ for e in read] == ["ContactLost", "NoteAdded", "ContactLost"]
    assert [e.data.last_contact.at for e in read if e.type == "contact_lost"] == [
        "2017-05", "2019-02"]
    assert upcast(log[2]) is log[2]  # already current: nothing to do


def test_a_chain_mixing_both_versions_verifies_on_the_events_as_recorded():
    log = mixed_log()
    recorded = [decode_event(encode_event(e)) for e in log]
    assert verify_chain(recorded) == log[-1].hash
    # the hash commits to the recorded bytes: an upcast event would not verify
    with pytest.raises(BrokenChain, match="sequence 1"):
        verify_chain([upcast(recorded[0]), *recorded[1:]])


def test_an_unknown_version_or_type_is_refused_naming_it():
    raw = json.loads(encode_event(mixed_log()[2]))
    with pytest.raises(ValidationError, match="schema_version"):
        decode_event(json.dumps({**raw, "schema_version": 3}))
    with pytest.raises(ValidationError, match="contact_mislaid"):
        decode_event(json.dumps({**raw, "type": "contact_mislaid"}))


def test_a_version_2_body_under_version_1_is_refused():
    raw = json.loads(encode_event(mixed_log()[2]))
    with pytest.raises(ValidationError, match="last_contact_at"):
        decode_event(json.dumps({**raw, "schema_version": 1}))
