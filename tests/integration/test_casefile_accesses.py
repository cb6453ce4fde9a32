"""The audit of access against the real broker and databases: every read of a case's data is
recorded before it is sent, reaches access-events, and auditors (only) list the reads per case
and per reader; nothing of the case is in the record, and a rebuild gives the live audit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from uuid import uuid4

import pytest
from sqlalchemy import Engine, text

from contracts.access import Principal, Role
from contracts.access_events import CaseRead, Client
from services.casefile.access_audit import events, outbox
from services.casefile.app import create_app as create_casefile
from services.casefile.log_reader import read_log
from services.casefile.rebuild import rebuild
from services.casefile.rows import instant
from tests.integration.casefile_support import (
    REPORT,
    checksum_of,
    intake_and_casefile,
    open_case,
    publish,
    record,
    until_accesses_folded,
    until_caught_up,
)
from tests.support import (
    ADMIN,
    AUDITOR,
    CASEWORKER,
    OTHER_TEAM,
    SUPERVISOR,
    Identity,
    bearer,
    running,
)

pytestmark = pytest.mark.integration

CONTENT = [REPORT["subject"]["name"], REPORT["reporter"]["name"], REPORT["summary"],
           "Fictional", "checkpoint", "daughter"]


async def test_reads_of_a_case_are_recorded_and_auditors_list_them_per_case_and_per_reader(
    intake_app, casefile_settings, kafka, topics, clock, database_url
):
    correlation_id = str(uuid4())
    async with intake_and_casefile(intake_app, casefile_settings, clock=clock) as (
            intake, casefile):
        case_id = await open_case(intake)
        await record(intake, f"/cases/{case_id}/contact-lost",
                     {"last_contact_at": "2017-05", "circumstances": "Fictional: at a checkpoint."})
        await until_caught_up(casefile, kafka, topics, intake=intake)

        # a caseworker of the case's team reads it five ways, a minute apart
        read_at: list[datetime] = []

        async def read(path: str, **options):
            read_at.append(clock.now)
            response = await casefile.get(path, **options)
            clock.advance(minutes=1)
            return response

        reads = [
            await read(f"/cases/{case_id}", headers={
                "X-Correlation-ID": correlation_id, "X-Forwarded-For": "198.51.100.9"}),
            await read(f"/cases/{case_id}/timeline"),
            await read(f"/cases/{case_id}", params={"as_of": "2025-03-01"}),
            await read(f"/cases/{case_id}/verification"),
            await read("/cases", params={"status": "open", "limit": 10}),
        ]
        await until_accesses_folded(casefile, kafka, topics)

        def as_auditor(path: str, **params):
            return casefile.get(path, params=params, headers=bearer(AUDITOR, clock.now))

        per_case = await as_auditor(f"/cases/{case_id}/accesses")
        per_reader = await as_auditor("/accesses", account=CASEWORKER.account)
        first_page = await as_auditor("/accesses", account=CASEWORKER.account, limit=2)
        timelines = await as_auditor("/accesses", case_id=case_id, what="timeline")
        since_third = await as_auditor("/accesses", since=instant(read_at[2]))
        by_nobody = await as_auditor("/accesses", account="caseworker-404")
        auditor_reads = await as_auditor(f"/cases/{case_id}")  # an auditor's read is one too
        await until_accesses_folded(casefile, kafka, topics)
        by_auditor = (await as_auditor("/accesses", account=AUDITOR.account)).json()
    on_topic = [record async for batch in read_log(kafka, [topics.access_events])
                for record in batch]
    live = checksum_of(casefile_settings.database_url)
    rebuilt = await rebuild(casefile_settings.model_copy(
        update={"database_url": database_url("replay")}))

    assert [r.status_code for r in reads] == [200] * 5 and auditor_reads.status_code == 200
    listed = per_case.json()
    assert per_case.headers["X-Total-Count"] == "5"
    assert [(a["what"], a["as_of"], a["read_at"]) for a in listed] == [  # newest first
        ("case_list", None, instant(read_at[4])),
        ("verification", None, instant(read_at[3])),
        ("case", "2025-03-01", instant(read_at[2])),
        ("timeline", None, instant(read_at[1])),
        ("case", None, instant(read_at[0])),
    ]
    assert {(a["account"], a["role"], a["team"], a["session_id"], a["issuer"])
            for a in listed} == {("caseworker-7", "caseworker", "almaty", "test-session", "local")}
    # from where: the connecting address; X-Forwarded-For is not believed from just anyone
    assert {(a["client_address"], a["proxy_address"]) for a in listed} == {("127.0.0.1", None)}
    assert listed[-1]["correlation_id"] == correlation_id
    assert {a["case_id"] for a in listed[1:]} == {case_id}
    assert listed[0]["case_id"] is None and listed[0]["case_ids"] == [case_id]
    assert (listed[0]["filters"], listed[0]["total"]) == (
        {"statuses": ["open"], "sort": "-opened_at", "limit": 10, "offset": 0}, 1)
    assert per_reader.json() == listed and per_reader.headers["X-Total-Count"] == "5"
    assert first_page.json() == listed[:2] and first_page.headers["X-Total-Count"] == "5"
    assert [a["what"] for a in timelines.json()] == ["timeline"]
    assert [a["read_at"] for a in since_third.json()] == [instant(read_at[i]) for i in (4, 3, 2)]
    assert by_nobody.json() == [] and by_nobody.headers["X-Total-Count"] == "0"
    assert [(a["account"], a["role"], a["what"]) for a in by_auditor] == [
        ("auditor-1", "auditor", "case")]
    # every read is on its own topic, a case's keyed by the case; none holds the case's content
    assert sorted((r.key.decode(), r.value.count(b"case_accessed")) for r in on_topic) == sorted(
        [(case_id, 1)] * 5 + [("caseworker-7", 0)])
    assert not [word for word in CONTENT for r in on_topic if word.encode() in r.value]
    assert not [word for word in CONTENT if word in per_case.text]
    assert rebuilt.accesses == 6 and rebuilt.checksum == live


async def test_nobody_but_an_auditor_lists_who_read_a_case(casefile_settings, clock):
    case_id = uuid4()
    async with running(create_casefile(casefile_settings, clock=clock), as_=None) as casefile:
        answers = {}
        for reader in (CASEWORKER, SUPERVISOR, OTHER_TEAM, ADMIN, None):
            headers = bearer(reader, clock.now) if reader else {}
            answers[reader.account if reader else "no token"] = [
                (await casefile.get(path, headers=headers)).status_code
                for path in (f"/cases/{case_id}/accesses", "/accesses?account=caseworker-7")]

    assert answers == {"caseworker-7": [403, 403], "supervisor-1": [403, 403],
                       "caseworker-9": [403, 403], "admin-1": [403, 403],
                       "no token": [401, 401]}


async def test_a_read_that_cannot_be_recorded_is_refused_and_its_data_not_sent(
    intake_app, casefile_settings, kafka, topics, clock
):
    async with intake_and_casefile(intake_app, casefile_settings, clock=clock) as (
            intake, casefile):
        case_id = await open_case(intake)
        await until_caught_up(casefile, kafka, topics, intake=intake)
        with casefile_engine(casefile_settings) as engine:
            with engine.begin() as connection:
                connection.execute(text("DROP TABLE access_outbox"))  # no record can be made
            refused = [await casefile.get(f"/cases/{case_id}"),
                       await casefile.get(f"/cases/{case_id}/timeline"),
                       await casefile.get("/cases")]
            outbox.prepare(engine)  # the store is back
        served = await casefile.get(f"/cases/{case_id}")

    assert [r.status_code for r in refused] == [503, 503, 503]
    assert served.status_code == 200
    assert all("could not be recorded" in r.json()["detail"] for r in refused)
    assert not [word for word in CONTENT for r in refused if word in r.text]


async def test_reads_left_in_the_outbox_survive_a_rebuild_and_reach_the_log_on_the_next_start(
    casefile_settings, kafka, topics, clock, database_url
):
    """As a casefile killed after answering would leave them: the outbox is not a read model,
    a rebuild leaves it alone, and the next start publishes it. A message on access-events
    that is not an access event is dead-lettered and listed for attention, and the audit goes
    on."""
    left = events.case_accessed(
        events.ReadContext(principal=principal_of(CASEWORKER), client=Client(address="192.0.2.4"),
                           correlation_id=uuid4(), read_at=clock.now),
        uuid4(), CaseRead.TIMELINE)
    with casefile_engine(casefile_settings) as engine:
        outbox.prepare(engine)
        outbox.add(engine, left.event_id, str(left.case_id).encode(),
                   left.model_dump_json().encode())
    before = await rebuild(casefile_settings)  # drops and replays the read models, not the outbox
    await publish(kafka, topics.access_events, [b'{"type": "case_accessed"}'], key="not-one")

    async with running(create_casefile(casefile_settings, clock=clock), as_=AUDITOR) as casefile:
        await until_accesses_folded(casefile, kafka, topics)
        listed = (await casefile.get(f"/cases/{left.case_id}/accesses")).json()
        attention = (await casefile.get("/attention")).json()
    live = checksum_of(casefile_settings.database_url)
    rebuilt = await rebuild(casefile_settings.model_copy(
        update={"database_url": database_url("replay")}))

    assert (before.accesses, before.dead_lettered) == (0, 0)
    assert [(a["event_id"], a["what"], a["client_address"]) for a in listed] == [
        (str(left.event_id), "timeline", "192.0.2.4")]
    assert [(a["topic"], a["stage"], a["case_id"]) for a in attention] == [
        (topics.access_events, "decode", None)]
    assert attention[0]["reason"].startswith("undecodable access event: ")
    assert (rebuilt.accesses, rebuilt.dead_lettered, rebuilt.checksum) == (1, 1, live)


def principal_of(who: Identity) -> Principal:
    return Principal(account=who.account, role=Role(who.role), team=who.team,
                     session_id="test-session")


@contextmanager
def casefile_engine(settings) -> Iterator[Engine]:
    """An engine on casefile's database, as an operator's psql would be."""
    engine = outbox.make_engine(settings.database_url)
    try:
        yield engine
    finally:
        engine.dispose()
