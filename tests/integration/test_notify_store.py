"""Notify's store on every backend: deadlines tracked once, alerts decided once, in order."""

from __future__ import annotations

from contracts.chain import seal
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from sqlmodel import Session

from contracts import InquirySent, OfficialResponseReceived
from services.notify import alerts, store
from services.notify.deadlines import overdue_event_id
from services.notify.handlers import apply

pytestmark = pytest.mark.integration

NOW = datetime(2025, 4, 1, 12, tzinfo=UTC)


@pytest.fixture
def engine(database_url):
    engine = store.make_engine(database_url("notify"))
    yield engine
    engine.dispose()


def inquiry_sent(case_id, *, sent_at="2025-02-20", due_at=None) -> InquirySent:
    return seal(
        InquirySent, prev_hash=None, event_id=uuid4(), case_id=case_id, sequence=2, occurred_at=sent_at, recorded_at=NOW,
        actor="caseworker", correlation_id=uuid4(),
        data={"inquiry_id": uuid4(), "recipient": {"name": "Fictional Ministry", "kind": "ministry",
              "country": "KZ"}, "channel": "email", "sent_at": sent_at, "due_at": due_at},
    )


def response_to(sent: InquirySent) -> OfficialResponseReceived:
    return seal(
        OfficialResponseReceived, prev_hash=None, event_id=uuid4(), case_id=sent.case_id, sequence=3, occurred_at="2025-03-01",
        recorded_at=NOW, actor="caseworker", correlation_id=uuid4(),
        data={"inquiry_id": sent.data.inquiry_id, "received_at": "2025-03-01",
              "summary": "Fictional answer."},
    )


def applied(engine, *events) -> list[str]:
    outcomes = []
    for event in events:
        with Session(engine) as session:
            outcomes.append(apply(session, event, default_response_days=30))
            session.commit()
    return outcomes


def test_events_are_applied_once_and_deadlines_round_trip_in_utc(engine):
    sent = inquiry_sent(uuid4())
    assert applied(engine, sent, sent, response_to(sent)) == ["tracked", "duplicate", "answered"]
    with Session(engine) as session:
        tracked = session.get(store.TrackedInquiry, sent.data.inquiry_id)
    assert tracked.due_at == datetime(2025, 3, 22, 23, 59, 59, 999999, tzinfo=UTC)
    assert tracked.answered_at == NOW and tracked.correlation_id == sent.correlation_id


def test_due_deadlines_are_the_unanswered_unalerted_past_ones_earliest_first(engine):
    case_id = uuid4()
    late = inquiry_sent(case_id, sent_at="2025-02-20")
    later = inquiry_sent(case_id, sent_at="2025-01-05")
    future = inquiry_sent(case_id, sent_at="2025-03-30")
    answered = inquiry_sent(case_id, sent_at="2025-01-01")
    applied(engine, late, later, future, answered, response_to(answered))

    with Session(engine) as session:
        due = store.due_deadlines(session, NOW, limit=10)
        assert [d.inquiry_id for d in due] == [later.data.inquiry_id, late.data.inquiry_id]
        assert len(store.due_deadlines(session, NOW, limit=1)) == 1


def test_an_alert_is_decided_once_with_the_next_sequence_of_the_case(engine):
    case_id = uuid4()
    first, second = inquiry_sent(case_id), inquiry_sent(case_id, sent_at="2025-02-21")
    applied(engine, first, second)

    decided = []
    for sent in (first, second, first):
        with Session(engine, expire_on_commit=False) as session:
            decided.append(alerts.decide_overdue(session, sent.data.inquiry_id, NOW))
            session.commit()

    assert decided[2] is None
    assert [a.sequence for a in decided[:2]] == [1, 2]
    assert decided[0].event_id == overdue_event_id(first.data.inquiry_id)
    with Session(engine) as session:
        assert store.due_deadlines(session, NOW + timedelta(days=999), limit=10) == []
        assert [a.event_id for a in store.unpublished_alerts(session)] == [
            decided[0].event_id, decided[1].event_id
        ]
        store.mark_published(session, decided[0].event_id)
        session.commit()
        assert [a.event_id for a in store.unpublished_alerts(session)] == [decided[1].event_id]
        stored = session.get(store.Alert, decided[0].event_id)
    # Rebuilt from the stored row, the event is the same as when it was first decided.
    assert alerts.overdue_event(stored) == alerts.overdue_event(decided[0])
    assert alerts.overdue_event(stored).causation_id == first.event_id


def test_an_answered_inquiry_is_not_decided_overdue(engine):
    sent = inquiry_sent(uuid4())
    applied(engine, sent, response_to(sent))
    with Session(engine) as session:
        assert alerts.decide_overdue(session, sent.data.inquiry_id, NOW) is None


def test_the_due_query_reads_the_due_at_index(engine):
    compiled = store.due_query(NOW, limit=10).compile(engine)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            params = tuple(str(compiled.params[name]) for name in compiled.positiontup)
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params).all()
        else:
            # On a table this small PostgreSQL rightly prefers a scan; ask what it would use.
            connection.exec_driver_sql("SET enable_seqscan = off")
            statement = store.due_query(NOW, limit=10).compile(
                engine, compile_kwargs={"literal_binds": True}
            )
            plan = connection.exec_driver_sql(f"EXPLAIN {statement}").all()
    assert any("ix_tracked_inquiry_due_at" in str(row) for row in plan), plan
