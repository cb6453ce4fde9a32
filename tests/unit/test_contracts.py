"""The event contracts: committed schemas match the code, and events survive the log's bytes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from pydantic import ValidationError

from contracts import ContactLost, decode_event, encode_event
from contracts.access_events import ACCESS_EVENT_TYPES
from contracts.asyncapi import DOCUMENT, render
from contracts.chain import seal
from contracts.events import EVENT_TYPES, ContactLostData, LastContact
from contracts.schemas import SCHEMA_DIR, rendered_schemas


def test_committed_json_schemas_are_up_to_date():
    expected = rendered_schemas()
    committed = {p.name: p.read_text(encoding="utf-8") for p in SCHEMA_DIR.glob("*.json")}
    stale = sorted(n for n in expected.keys() | committed.keys() if expected.get(n) != committed.get(n))
    assert not stale, f"contracts/schemas is stale for {stale}; run `make schemas` and commit"


def test_committed_asyncapi_document_is_up_to_date():
    assert DOCUMENT.read_text(encoding="utf-8") == render(), (
        "contracts/asyncapi.json is stale; run `make asyncapi` and commit"
    )


def test_the_asyncapi_document_describes_every_topic_written_with_every_event_type():
    document = json.loads(render())
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {"case-events", "alert-events", "access-events"}
    described = set(document["components"]["schemas"])
    assert {model.__name__ for model in (*EVENT_TYPES, *ACCESS_EVENT_TYPES)} <= described


def _contact_lost(**overrides) -> ContactLost:
    fields = dict(
        event_id=uuid4(), case_id=uuid4(), sequence=2, occurred_at="2017-05",
        recorded_at=datetime(2020, 1, 2, 3, 4, 5, 678901, tzinfo=UTC), actor="caseworker-7",
        correlation_id=uuid4(), prev_hash=None,
        data=ContactLostData(last_contact=LastContact(at="2017-05"), circumstances="Fictional."),
    )
    return seal(ContactLost, **fields | overrides)


def test_an_event_round_trips_through_its_bytes_unchanged():
    event = _contact_lost()
    assert decode_event(encode_event(event)) == event


def test_the_type_field_picks_the_event_class():
    assert isinstance(decode_event(encode_event(_contact_lost())), ContactLost)


def test_an_event_of_unknown_type_is_refused():
    raw = encode_event(_contact_lost()).replace(b'"contact_lost"', b'"contact_vanished"', 1)
    with pytest.raises(ValidationError, match="contact_vanished"):
        decode_event(raw)


def test_recorded_at_must_carry_a_time_zone():
    with pytest.raises(ValidationError, match="recorded_at"):
        _contact_lost(recorded_at=datetime(2020, 1, 2))
