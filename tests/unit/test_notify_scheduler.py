"""The scheduler decides before it publishes, and a failed publication is retried unchanged."""

from __future__ import annotations

from contracts.chain import seal
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from sqlmodel import Session

from contracts import InquirySent
from services.notify import store
from services.notify.handlers import apply
from services.notify.scheduler import OverdueScheduler
from tests.support import FakeClock


class FlakyLog:
    """Stands in for the broker: refuses the first `failures` publications."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.published: list = []

    async def publish(self, event) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("broker unreachable")
        self.published.append(event)


def scheduler(engine, log: FlakyLog, clock, *, caught_up: bool = True) -> OverdueScheduler:
    async def probe() -> bool:
        return caught_up

    return OverdueScheduler(engine=engine, publish=log.publish, clock=clock, interval=0.01,
                            caught_up=probe, catch_up_timeout=3600)


def track_inquiry(engine, sent_at: str = "2025-02-20") -> InquirySent:
    event = seal(
        InquirySent, prev_hash=None, event_id=uuid4(), case_id=uuid4(), sequence=2, occurred_at=sent_at,
        recorded_at=datetime(2025, 3, 1, tzinfo=UTC), actor="caseworker", correlation_id=uuid4(),
        data={"inquiry_id": uuid4(), "recipient": {"name": "Fictional Police", "kind": "police",
              "country": "KZ"}, "channel": "fax", "sent_at": sent_at},
    )
    with Session(engine) as session:
        apply(session, event, default_response_days=30)
        session.commit()
    return event


async def test_a_failed_publication_is_retried_next_tick_with_the_same_event(tmp_path):
    engine = store.make_engine(f"sqlite:///{tmp_path}/notify.db")
    clock = FakeClock(datetime(2025, 4, 1, tzinfo=UTC))
    log = FlakyLog(failures=1)
    sent = track_inquiry(engine)
    ticks = scheduler(engine, log, clock)

    await ticks.tick()  # decided, but the log refused it
    assert log.published == []
    clock.advance(hours=1)
    await ticks.tick()
    await ticks.tick()

    assert [e.data.inquiry_id for e in log.published] == [sent.data.inquiry_id]
    assert log.published[0].data.detected_at == datetime(2025, 4, 1, tzinfo=UTC)  # the decision's
    with Session(engine) as session:
        assert store.unpublished_alerts(session) == []
    engine.dispose()


async def test_nothing_is_judged_until_the_consumer_has_caught_up(tmp_path):
    engine = store.make_engine(f"sqlite:///{tmp_path}/notify.db")
    clock = FakeClock(datetime(2025, 4, 1, tzinfo=UTC))
    log = FlakyLog(failures=0)
    track_inquiry(engine)

    await scheduler(engine, log, clock, caught_up=False).tick()
    assert log.published == []
    await scheduler(engine, log, clock, caught_up=True).tick()
    assert len(log.published) == 1
    engine.dispose()


async def test_an_inquiry_not_yet_due_is_left_alone(tmp_path):
    engine = store.make_engine(f"sqlite:///{tmp_path}/notify.db")
    log = FlakyLog(failures=0)
    track_inquiry(engine, sent_at="2025-03-31")
    await scheduler(engine, log, FakeClock(datetime(2025, 4, 1, tzinfo=UTC))).tick()
    assert log.published == []
    clock = FakeClock(datetime(2025, 5, 1, tzinfo=UTC) + timedelta(microseconds=-1))
    await scheduler(engine, log, clock).tick()
    assert len(log.published) == 1
    engine.dispose()
