"""Hash-chain verification (API and CLI) and a log holding two versions of one event type,
against the real broker and databases."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from contracts import encode_event
from contracts.case_events import ContactLostDataV1, ContactLostV1
from contracts.chain import seal
from contracts.events import (
    ContactLost,
    ContactLostData,
    LastContact,
    NoteAdded,
    NoteAddedData,
    ReportReceived,
    ReportReceivedData,
)
from contracts.values import Reporter, Subject
from services.casefile.app import create_app as create_casefile
from services.casefile.rebuild import rebuild
from tests.integration.casefile_support import (
    checksum_of,
    intake_and_casefile,
    open_case,
    overdue_alert,
    publish,
    record,
    until_caught_up,
)
from tests.support import AUDITOR, read_topic, running

pytestmark = pytest.mark.integration

RECORDED = datetime(2020, 3, 1, 9, 0, tzinfo=UTC)


class Chain:
    """A case's stream as a producer writes it: sequences from 1, each linked to the last."""

    def __init__(self, case_id: UUID | None = None) -> None:
        self.case_id = case_id or uuid4()
        self.events: list = []

    def add(self, event_type, data, *, occurred_at: str, **overrides):
        previous = self.events[-1] if self.events else None
        event = seal(
            event_type, event_id=uuid4(), case_id=self.case_id, sequence=len(self.events) + 1,
            occurred_at=occurred_at, recorded_at=RECORDED + timedelta(days=len(self.events)),
            actor="caseworker-legacy", correlation_id=uuid4(),
            prev_hash=previous.hash if previous else None, data=data, **overrides,
        )
        self.events.append(event)
        return event


def legacy_and_current_contact_losses() -> Chain:
    chain = Chain()
    chain.add(ReportReceived, ReportReceivedData(
        subject=Subject(name="Fictional Legacy Person"),
        reporter=Reporter(name="Fictional Legacy Relative", relationship="brother"),
        summary="Fictional: recorded before contact_lost had a version 2."),
        occurred_at="2020-03-01")
    chain.add(ContactLostV1, ContactLostDataV1(
        last_contact_at="2017-05", channel="phone", circumstances="Fictional: v1 event."),
        occurred_at="2017-05")
    chain.add(ContactLost, ContactLostData(
        last_contact=LastContact(at="2019-02", channel="messenger", place="Fictional town"),
        circumstances="Fictional: v2 event."), occurred_at="2019-02")
    return chain


async def test_a_log_holding_both_versions_of_contact_lost_replays_through_the_upcaster(
    casefile_settings, kafka, topics, database_url
):
    chain = legacy_and_current_contact_losses()
    await publish(kafka, topics.case_events, [encode_event(e) for e in chain.events],
                  key=str(chain.case_id))
    async with running(create_casefile(casefile_settings), as_=AUDITOR) as casefile:
        await until_caught_up(casefile, kafka, topics)
        timeline = (await casefile.get(f"/cases/{chain.case_id}/timeline")).json()
        case = (await casefile.get(f"/cases/{chain.case_id}")).json()
        verification = (await casefile.get(f"/cases/{chain.case_id}/verification")).json()
    rebuilt = await rebuild(casefile_settings.model_copy(
        update={"database_url": database_url("replay")}))

    lost = [e for e in timeline if e["type"] == "contact_lost"]
    assert [(e["schema_version"], e["data"]["last_contact"]) for e in lost] == [
        (1, {"at": "2017-05", "channel": "phone", "place": None}),
        (2, {"at": "2019-02", "channel": "messenger", "place": "Fictional town"}),
    ]
    assert case["last_contact_at"] == "2019-02"
    # hashes are checked on the events as recorded, so the old version still verifies
    assert verification["intact"] and verification["streams"][0]["events"] == 3
    assert rebuilt.checksum == checksum_of(casefile_settings.database_url)


def verify_cli(kafka: str, topics, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka, "CASE_EVENTS_TOPIC": topics.case_events,
           "ALERT_EVENTS_TOPIC": topics.alert_events, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "services.casefile.verify", *args], env=env,
                          capture_output=True, text=True, timeout=120)


async def test_verification_names_the_first_event_whose_hash_does_not_match(
    intake_app, casefile_settings, kafka, topics
):
    async with intake_and_casefile(intake_app, casefile_settings, reader=AUDITOR) as (
            intake, casefile):
        intact = await open_case(intake)
        tampered = await open_case(intake)
        await record(intake, f"/cases/{tampered}/notes", {"text": "Fictional note."})
        on_log = [e for e in await read_topic(kafka, topics.case_events)
                  if e["case_id"] == tampered]
        head = on_log[-1]
        # someone with access to the broker appends a note whose bytes were altered after sealing
        forged = seal(
            NoteAdded, event_id=uuid4(), case_id=UUID(tampered), sequence=3,
            occurred_at="2025-03-01", recorded_at=RECORDED, actor="caseworker-1",
            correlation_id=uuid4(), prev_hash=head["hash"],
            data=NoteAddedData(text="Fictional: what was sealed."),
        ).model_copy(update={"actor": "someone-else"})
        await publish(kafka, topics.case_events, [encode_event(forged)], key=tampered)
        alert = overdue_alert(intact, str(uuid4()))
        await publish(kafka, topics.alert_events, [encode_event(alert)], key=intact)
        await until_caught_up(casefile, kafka, topics, intake=intake)

        good = (await casefile.get(f"/cases/{intact}/verification")).json()
        bad = (await casefile.get(f"/cases/{tampered}/verification")).json()
        everything = (await casefile.get("/verification")).json()
        unknown = await casefile.get(f"/cases/{uuid4()}/verification")

    on_the_log = verify_cli(kafka, topics)
    one_case = verify_cli(kafka, topics, "--case", intact)
    stored = verify_cli(kafka, topics, "--store", "--database-url", casefile_settings.database_url)

    assert good["intact"] and [(s["stream"], s["events"]) for s in good["streams"]] == [
        ("alert", 1), ("case", 1)]
    assert good["streams"][0]["head_hash"] == alert.hash
    assert not bad["intact"]
    (stream,) = bad["streams"]
    assert stream["broken"] == {
        "case_id": tampered, "stream": "case", "sequence": 3, "event_id": str(forged.event_id),
        "kind": "bytes", "reason": "the event's bytes do not match its hash"}
    assert (everything["intact"], everything["cases"], everything["events"]) == (False, 2, 5)
    assert [b["case_id"] for b in everything["broken"]] == [tampered]
    assert unknown.status_code == 404
    assert on_the_log.returncode == 1, on_the_log.stdout + on_the_log.stderr
    assert tampered in on_the_log.stdout and str(forged.event_id) in on_the_log.stdout
    assert one_case.returncode == 0 and "every chain verified" in one_case.stdout
    assert stored.returncode == 1 and tampered in stored.stdout


async def test_a_gap_in_the_sequence_is_reported(casefile_settings, kafka, topics):
    chain = legacy_and_current_contact_losses()
    missing_second = [chain.events[0], chain.events[2]]
    await publish(kafka, topics.case_events, [encode_event(e) for e in missing_second],
                  key=str(chain.case_id))
    async with running(create_casefile(casefile_settings), as_=AUDITOR) as casefile:
        await until_caught_up(casefile, kafka, topics)
        verification = (await casefile.get(f"/cases/{chain.case_id}/verification")).json()
    cli = verify_cli(kafka, topics)

    broken = verification["streams"][0]["broken"]
    assert (broken["kind"], broken["sequence"], broken["reason"]) == (
        "gap", 3, "sequence 2 is missing")
    assert cli.returncode == 1 and "sequence 2 is missing" in cli.stdout
