"""Intake replicas on one PostgreSQL database and one outbox, as deploy/compose.yaml and
deploy/k8s run them (two, four in the large overlay): each is a real process, and the README's
guarantees still hold.

PostgreSQL only: several intake processes on one SQLite file is not a supported deployment.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from contracts import decode_event
from contracts.chain import verify_chain
from deploy.processes import free_port
from services.intake import migrate
from tests.support import ServiceProcess, eventually, read_partitions

pytestmark = [
    pytest.mark.integration,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

REPORT = {
    "subject": {"name": "Гульнар Үлгіова (fictional)"},
    "reporter": {"name": "Fictional Brother", "relationship": "brother"},
    "summary": "Fictional: taken from a market, no word since.",
}


def contact_lost(year: int) -> dict:
    return {"last_contact_at": str(year), "circumstances": "Fictional: phone switched off."}


@dataclass
class Replicas:
    database: str
    kafka: str
    topic: str
    tmp_path: Path

    def replica(self, *, kafka: str | None = None) -> ServiceProcess:
        """An intake process on the shared store; migrated beforehand, as the deployment's job
        does (MIGRATE_ON_START=false there too)."""
        return ServiceProcess("intake", self.tmp_path, {
            "DATABASE_URL": self.database, "KAFKA_BOOTSTRAP_SERVERS": kafka or self.kafka,
            "CASE_EVENTS_TOPIC": self.topic, "MIGRATE_ON_START": "false",
            "RELAY_IDLE_POLL_SECONDS": "0.2",
            "REVOCATIONS_WAIT_SECONDS": "1",  # a replica without a broker honours tokens soon
        })


@pytest.fixture
def replicas(kafka, topics, database_url, tmp_path) -> Replicas:
    database = database_url("intake")
    assert migrate.main(["--database-url", database]) == 0
    return Replicas(database, kafka, topics.case_events, tmp_path)


@pytest.fixture
def two(replicas: Replicas) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    one, other = replicas.replica(), replicas.replica()
    one.start()
    try:
        other.start()
        try:
            yield one, other
        finally:
            other.stop()
    finally:
        one.stop()


async def created(response: httpx.Response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()


async def outbox_backlog(replica: ServiceProcess) -> int | None:
    async with httpx.AsyncClient(base_url=replica.url, timeout=5) as client:
        return (await client.get("/readyz")).json()["checks"]["outbox_backlog"]


async def case_log(kafka: str, topic: str, acked: dict[str, list[str]]) -> dict[str, list[dict]]:
    """Each case's events as a consumer deduplicating by event_id reads them, once every
    acknowledged event is on the log; every case's messages must sit on one partition."""
    wanted = {e for ids in acked.values() for e in ids}
    on_log = await eventually(lambda: read_partitions(kafka, topic),
                              until=lambda records: wanted <= {m["event_id"] for _, m in records},
                              timeout=60)
    by_case: dict[str, list[dict]] = {case_id: [] for case_id in acked}
    partitions: dict[str, set[int]] = {case_id: set() for case_id in acked}
    for partition, message in on_log:
        if message["case_id"] in by_case:
            partitions[message["case_id"]].add(partition)
            if message["event_id"] not in {m["event_id"] for m in by_case[message["case_id"]]}:
                by_case[message["case_id"]].append(message)
    assert all(len(p) == 1 for p in partitions.values()), f"a case split over partitions: {partitions}"
    return by_case


def assert_in_case_order(by_case: dict[str, list[dict]], acked: dict[str, list[str]]) -> None:
    """First sightings on the log run 1, 2, 3 ... with an unbroken chain, and are exactly the
    events acknowledged (duplicates of one event_id are allowed: consumers drop them)."""
    for case_id, events in by_case.items():
        assert [m["sequence"] for m in events] == list(range(1, len(events) + 1)), case_id
        assert {m["event_id"] for m in events} == set(acked[case_id]), case_id
        verify_chain(decode_event(json.dumps(m)) for m in events)


async def test_commands_on_one_case_through_both_replicas_make_one_gap_free_stream(two, replicas):
    one, other = two
    async with one.client(timeout=30) as a, other.client(timeout=30) as b:
        opened = await created(await a.post("/cases", json=REPORT))
        case_id = opened["case_id"]
        answers = await asyncio.gather(*(
            (a, b)[i % 2].post(f"/cases/{case_id}/contact-lost", json=contact_lost(1990 + i))
            for i in range(30)
        ))
        recorded = [await created(answer) for answer in answers]
        assert sorted(r["sequence"] for r in recorded) == list(range(2, 32))

        # Both replicas are sent an edit based on the same version at once: one is recorded,
        # the other refused as stale, never appended beside it.
        version = 31
        for round_ in range(8):
            sent = await asyncio.gather(*(
                client.post(f"/cases/{case_id}/contact-lost", json=contact_lost(2000 + round_),
                            headers={"If-Match": f'"{version}"'})
                for client in (a, b)
            ))
            assert sorted(r.status_code for r in sent) == [201, 409], [r.text for r in sent]
            ok = next(r for r in sent if r.status_code == 201)
            stale = next(r for r in sent if r.status_code == 409)
            assert ok.json()["sequence"] == version + 1
            assert stale.json()["detail"]["current_version"] == version + 1
            recorded.append(ok.json())
            version += 1

    acked = {case_id: [opened["event_id"]] + [r["event_id"] for r in recorded]}
    by_case = await case_log(replicas.kafka, replicas.topic, acked)
    assert len(by_case[case_id]) == 39
    assert_in_case_order(by_case, acked)


async def test_four_replicas_writing_one_case_at_once_each_get_their_201(replicas):
    """As many replicas as the large overlay runs, all writing the same case: each command is
    recorded once, in one gap-free stream, none turned away for having met another replica."""
    processes = [replicas.replica() for _ in range(4)]
    try:
        for process in processes:
            process.start()
        clients = [process.client(timeout=60) for process in processes]
        opened = await created(await clients[0].post("/cases", json=REPORT))
        case_id = opened["case_id"]
        recorded = []
        for round_ in range(3):
            answers = await asyncio.gather(*(
                clients[i % 4].post(f"/cases/{case_id}/contact-lost", json=contact_lost(1900 + i))
                for i in range(80)
            ))
            assert [a.status_code for a in answers] == [201] * 80, {
                a.text for a in answers if a.status_code != 201}
            recorded += [a.json() for a in answers]
        for client in clients:
            await client.aclose()
    finally:
        for process in processes:
            if process.process is not None:
                process.stop()
    assert sorted(r["sequence"] for r in recorded) == list(range(2, 242))


@pytest.mark.parametrize("killed_reaches_broker", [True, False], ids=["broker-up", "broker-away"])
async def test_every_201_of_either_replica_reaches_the_log_in_case_order_though_one_is_killed(
    replicas, killed_reaches_broker
):
    """One replica is SIGKILLed right after its 201s (having published some, or none, of them:
    it cannot reach the broker); the other publishes what it left, and so does its restart."""
    killed = replicas.replica(kafka=None if killed_reaches_broker else f"127.0.0.1:{free_port()}")
    survivor = replicas.replica()
    killed.start()
    survivor.start()
    acked: dict[str, list[str]] = {}
    try:
        async with killed.client(timeout=30) as k, survivor.client(timeout=30) as s:

            async def record_on_every_case(clients, year: int) -> None:
                # Concurrent commands on every case, alternating replicas; each case's 201s come
                # back in sequence order only per replica, so sort by sequence afterwards.
                answers = await asyncio.gather(*(
                    clients[i % len(clients)].post(f"/cases/{case_id}/contact-lost",
                                                   json=contact_lost(year + i))
                    for case_id in acked for i in range(4)
                ))
                for answer in answers:
                    event = await created(answer)
                    acked[event["case_id"]].append((event["sequence"], event["event_id"]))

            for i in range(6):
                opened = await created(await (k, s)[i % 2].post("/cases", json=REPORT))
                acked[opened["case_id"]] = [(opened["sequence"], opened["event_id"])]
            await record_on_every_case((k, s), 2000)
            killed.kill()  # right after its last 201: no chance to publish or clear its outbox
            await record_on_every_case((s,), 2010)

        restarted = replicas.replica()
        restarted.start()
        try:
            async with restarted.client(timeout=30) as r, survivor.client(timeout=30) as s:
                await record_on_every_case((r, s), 2020)
            await eventually(lambda: outbox_backlog(survivor), until=lambda n: n == 0)
        finally:
            restarted.stop()
    finally:
        survivor.stop()
        if killed.process.poll() is None:
            killed.stop()

    in_order = {case_id: [e for _, e in sorted(events)] for case_id, events in acked.items()}
    for case_id, events in acked.items():
        assert sorted(seq for seq, _ in events) == list(range(1, 14)), case_id
    by_case = await case_log(replicas.kafka, replicas.topic, in_order)
    assert_in_case_order(by_case, in_order)
    for case_id, events in by_case.items():
        assert [m["event_id"] for m in events] == in_order[case_id]


async def test_the_same_idempotency_key_sent_to_both_replicas_records_one_event(two, replicas):
    one, other = two
    async with one.client(timeout=30) as a, other.client(timeout=30) as b:
        key = {"Idempotency-Key": f"report-{uuid.uuid4()}"}
        opened = await asyncio.gather(*(c.post("/cases", json=REPORT, headers=key) for c in (a, b)))
        first, again = [await created(r) for r in opened]
        assert first == again  # one case opened, not two
        assert sorted(r.headers.get("Idempotent-Replayed", "") for r in opened) == ["", "true"]
        case_id = first["case_id"]

        keys = [f"contact-{uuid.uuid4()}" for _ in range(12)]
        retried = await asyncio.gather(*(
            client.post(f"/cases/{case_id}/contact-lost", json=contact_lost(1980 + n),
                        headers={"Idempotency-Key": key})
            for n, key in enumerate(keys) for client in (a, b)
        ))
        pairs = [[await created(r) for r in retried[n:n + 2]] for n in range(0, len(retried), 2)]
        for pair, sent in zip(pairs, (retried[n:n + 2] for n in range(0, len(retried), 2)), strict=True):
            assert pair[0] == pair[1]
            assert sorted(r.headers.get("Idempotent-Replayed", "") for r in sent) == ["", "true"]
        assert sorted(pair[0]["sequence"] for pair in pairs) == list(range(2, 14))

    await eventually(lambda: outbox_backlog(one), until=lambda n: n == 0)
    acked = {case_id: [first["event_id"]] + [p[0]["event_id"] for p in
                                             sorted(pairs, key=lambda p: p[0]["sequence"])]}
    by_case = await case_log(replicas.kafka, replicas.topic, acked)
    assert_in_case_order(by_case, acked)  # exactly the 13 acknowledged events, no second one
    opened_on_log = {m["case_id"] for _, m in await read_partitions(replicas.kafka, replicas.topic)}
    assert opened_on_log == {case_id}
