"""How the live consumer tells a database outage (retry until it is back) from a message
that cannot be applied (retry a few times, then dead-letter it and carry on)."""

from __future__ import annotations

from uuid import UUID

import pytest
import sqlalchemy.exc
from aiokafka import ConsumerRecord

from contracts import encode_event
from services.casefile import handlers
from services.casefile.handlers import EventNotApplied, LiveProjection
from services.casefile.metrics import CasefileMetrics
from tests.unit.test_casefile_projections import CASE, report


def record(value: bytes, offset: int = 7) -> ConsumerRecord:
    return ConsumerRecord(
        topic="case-events", partition=1, offset=offset, timestamp=0, timestamp_type=0,
        key=str(CASE).encode(), value=value, checksum=None, serialized_key_size=36,
        serialized_value_size=len(value), headers=(),
    )


@pytest.fixture
def consumer(monkeypatch):
    dead_letters, flagged = [], []

    async def publish(letter) -> None:
        dead_letters.append(letter)

    def commit_attention(engine, letter) -> bool:
        flagged.append(letter)
        return True

    monkeypatch.setattr(handlers, "commit_attention", commit_attention)
    projection = LiveProjection(
        engine=None, streams={"case-events": "case"}, publish_dead_letter=publish,
        metrics=CasefileMetrics(None, lambda: None), consumer_group="casefile", attempts=3,
        backoff=0,
    )
    return projection, dead_letters, flagged


async def test_a_database_outage_is_retried_and_never_dead_lettered(consumer, monkeypatch):
    projection, dead_letters, _ = consumer
    calls = []

    def database_down(*args):
        calls.append(args)
        raise sqlalchemy.exc.OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(handlers, "commit_event", database_down)
    for _ in range(5):  # every redelivery meets the outage again
        with pytest.raises(EventNotApplied):
            await projection.handle(record(encode_event(report(1))))
    assert len(calls) == 5 and dead_letters == []


async def test_an_event_that_cannot_be_applied_is_dead_lettered_after_its_attempts(
    consumer, monkeypatch
):
    projection, dead_letters, flagged = consumer
    calls = []

    def projection_bug(*args):
        calls.append(args)
        raise ValueError("a bug in a projection")

    monkeypatch.setattr(handlers, "commit_event", projection_bug)
    event = report(1)
    await projection.handle(record(encode_event(event)))  # returns: the consumer moves on

    assert len(calls) == 3
    (letter,) = dead_letters
    assert (letter.stage, letter.reason, letter.offset, letter.event_id, letter.case_id) == (
        "apply", "not applied: ValueError", 7, event.event_id, CASE)
    assert flagged == [letter]


async def test_an_undecodable_message_is_dead_lettered_at_once(consumer, monkeypatch):
    projection, dead_letters, flagged = consumer
    monkeypatch.setattr(handlers, "commit_event", lambda *args: pytest.fail("nothing to apply"))
    await projection.handle(record(b"not json at all"))
    (letter,) = dead_letters
    assert (letter.stage, letter.case_id, letter.value) == ("decode", CASE, b"not json at all")
    assert letter.headers()["original-offset"] == "7" and isinstance(letter.case_id, UUID)


async def test_if_the_dead_letter_topic_is_unreachable_the_message_is_retried_not_lost(
    consumer, monkeypatch
):
    projection, _, flagged = consumer

    async def broker_down(letter) -> None:
        raise ConnectionError("broker unreachable")

    projection.publish_dead_letter = broker_down
    with pytest.raises(EventNotApplied):
        await projection.handle(record(b"not json at all"))
    assert flagged == []  # nothing recorded as handled: the offset is not committed
