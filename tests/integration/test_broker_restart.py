"""The broker itself restarts: every event acknowledged before is still on the log after, for a
casefile that rebuilds from offset 0 and for a consumer group resuming where it committed.
Run on both brokers with durable storage: Tansu on SeaweedFS S3, and SeaweedFS's Kafka
gateway (its MQ broker keeps the log in SeaweedFS's filer). The services keep their read models
in SQLite here: the broker is what is under test, and the databases are covered elsewhere."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import pytest

from contracts.topics import ACCOUNT_EVENTS
from deploy.embedded import EmbeddedBroker, S3Ports
from deploy.processes import free_port
from deploy.seaweedfs_kafka import SeaweedKafkaGateway
from deploy.topics import ensure_topics
from services.casefile.app import create_app as create_casefile
from services.casefile.config import Settings as CasefileSettings
from services.intake.app import create_app as create_intake
from services.intake.config import Settings as IntakeSettings
from tests.broker_support import TANSU, on_every_broker, session_timeout_ms
from tests.integration.casefile_support import (
    answer,
    case_of,
    open_case,
    record,
    send_inquiry,
    timeline_of,
)
from tests.support import changed, eventually, running

pytestmark = pytest.mark.integration

GATEWAY_LOSES_THE_LOG_ON_RESTART = (
    "SeaweedFS 4.48 Kafka gateway: after the gateway or its MQ broker restarts, Fetch (API key "
    "1, v7) from a consumer group's committed offset answers an empty record set while the "
    "high watermark counts the records (gateway log, at -v=2: 'FETCH GAP ... requested "
    "offset=N below HWM=M but readRecords returned empty'): casefile's resumed group never "
    "receives the event recorded after the restart"
)


@pytest.fixture
def durable_broker(broker, tmp_path) -> Iterator[EmbeddedBroker | SeaweedKafkaGateway]:
    """A durable broker of the test's kind, of its own (the session's Tansu keeps its log in
    memory), which `stop_broker()` and `start_broker()` restart on the store they keep."""
    if broker == TANSU:
        broker = EmbeddedBroker(data_dir=tmp_path / "tansu", kafka_port=free_port(),
                                durable=True, s3_ports=S3Ports.free())
    else:
        broker = SeaweedKafkaGateway(data_dir=tmp_path / "seaweedfs")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@on_every_broker(seaweedfs_fails=GATEWAY_LOSES_THE_LOG_ON_RESTART)
async def test_events_acknowledged_before_a_broker_restart_are_all_read_after_it(
    durable_broker, broker, tmp_path, clock
):
    kafka = durable_broker.bootstrap_servers
    suffix = uuid4().hex[:8]
    case_events, alert_events, access_events = (
        f"{name}-{suffix}" for name in ("case-events", "alert-events", "access-events"))
    await ensure_topics(kafka, [ACCOUNT_EVENTS, case_events, alert_events, access_events])
    intake_app = create_intake(IntakeSettings(
        kafka_bootstrap_servers=kafka, case_events_topic=case_events,
        database_url=f"sqlite:///{tmp_path / 'intake.db'}", relay_idle_poll_seconds=0.2,
    ), clock=clock)
    live = CasefileSettings(
        kafka_bootstrap_servers=kafka, case_events_topic=case_events,
        alert_events_topic=alert_events, access_events_topic=access_events,
        dead_letter_topic=f"dead-letters-{case_events}",
        database_url=f"sqlite:///{tmp_path / 'casefile.db'}", consumer_group=f"casefile-{suffix}",
        kafka_session_timeout_ms=session_timeout_ms(broker, 3000),
        kafka_heartbeat_interval_ms=300, retry_backoff_seconds=0.1,
    )

    async with running(intake_app) as intake:
        async with running(create_casefile(live)) as casefile:
            case_id = await open_case(intake)
            await record(intake, f"/cases/{case_id}/contact-lost",
                         {"last_contact_at": "2017-05", "circumstances": "Fictional."})
            inquiry_id = await send_inquiry(intake, case_id)
            await eventually(lambda: timeline_of(casefile, case_id), until=lambda t: len(t) == 3)

        durable_broker.stop_broker()
        durable_broker.start_broker()
        await answer(intake, case_id, inquiry_id)  # recorded after the restart

        # The same group resumes after what it committed; a new database replays from 0.
        async with running(create_casefile(live)) as casefile:
            resumed = await eventually(lambda: timeline_of(casefile, case_id),
                                       until=lambda t: len(t) == 4, timeout=30)
        rebuilt_settings = changed(live, database_url=f"sqlite:///{tmp_path / 'rebuilt.db'}",
                                   consumer_group=f"rebuilt-{suffix}")
        async with running(create_casefile(rebuilt_settings)) as casefile:
            rebuilt = await eventually(lambda: timeline_of(casefile, case_id),
                                       until=lambda t: len(t) == 4, timeout=30)
            rebuilt_case = await case_of(casefile, case_id)

    assert [e["sequence"] for e in resumed] == [e["sequence"] for e in rebuilt] == [2, 3, 4, 1]
    assert [e["event_id"] for e in resumed] == [e["event_id"] for e in rebuilt]
    assert rebuilt_case["inquiries"][0]["state"] == "answered"
