"""The case state intake stores beside each case's events, on SQLite and PostgreSQL: a state
stored by an earlier version, which kept fewer facts, is folded again from the case's events."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select, update

from services.intake import commands as c
from services.intake import inquiry_decisions, store
from services.intake.decisions import evolve
from services.intake.migrate import upgrade
from tests.unit.intake_desk import Desk

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(database_url) -> Iterator[Engine]:
    engine = store.make_engine(database_url("intake"))
    upgrade(engine)
    yield engine
    engine.dispose()


def recorded(engine: Engine, desk: Desk) -> None:
    """Store the desk's case as intake does: its events, their outbox entries, its state."""
    with store.writing(engine) as session:
        batch = store.Batch(session, case_ids=set(), keys=set())
        state = None
        for event in desk.events:
            state = evolve(state, event)
            batch.append(state, event)
        batch.write()
        session.commit()


def stored_state(engine: Engine, desk: Desk) -> dict:
    with engine.connect() as connection:
        row = connection.execute(
            select(store.CaseStream.state).where(store.CaseStream.case_id == desk.state.case_id)
        ).scalar_one()
    return json.loads(row)


def store_as_an_earlier_intake_did(engine: Engine, desk: Desk) -> None:
    earlier = {"closed": desk.state.closed,
               "inquiries": {str(k): v.state for k, v in desk.state.inquiries.items()}}
    with store.writing(engine) as session:
        session.connection().execute(
            update(store.CaseStream)
            .where(store.CaseStream.case_id == desk.state.case_id)
            .values(state=json.dumps(earlier, sort_keys=True))
        )
        session.commit()


def test_a_state_stored_by_an_earlier_intake_is_read_whole_and_stored_whole_again(engine):
    desk = Desk()
    answered, withdrawn, awaiting = desk.inquiry(), desk.inquiry(), desk.inquiry()
    desk.do(inquiry_decisions.record_response, answered,
            c.RecordResponse(received_at="2025-02-20", summary="Fictional: no record."))
    desk.do(inquiry_decisions.withdraw_inquiry, withdrawn, c.WithdrawInquiry())
    recorded(engine, desk)
    store_as_an_earlier_intake_did(engine, desk)
    assert "sent_at" not in stored_state(engine, desk)

    with store.writing(engine) as session:
        batch = store.Batch(session, case_ids={desk.state.case_id}, keys=set())
        case = batch.case(desk.state.case_id)
        assert case == desk.state  # states, send dates and version as if never stored apart
        follow_up = inquiry_decisions.send_follow_up(
            case, awaiting, c.SendFollowUp(channel="email", sent_at="2025-02-25"), desk.ctx)
        batch.append(evolve(case, follow_up), follow_up)
        batch.write()
        session.commit()

    assert stored_state(engine, desk)["sent_at"] == {
        str(inquiry): "2025-01-15" for inquiry in (answered, withdrawn, awaiting)}
