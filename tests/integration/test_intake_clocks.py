"""An inquiry's response clock over HTTP, against the real broker and both databases: what is
refused is named (409 the rule, 422 the field, 404 the unknown) and writes nothing; a case
stored by an earlier intake is judged on the same facts as one stored today."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select, update

from services.intake import commands, store
from services.intake.app import create_app
from services.intake.config import Settings
from tests.support import FakeClock, read_until, running

pytestmark = pytest.mark.integration

REPORT = {
    "subject": {"name": "Fictional Person"},
    "reporter": {"name": "Fictional Relative", "relationship": "niece"},
    "summary": "Fictional: recorded by the clock tests.",
}
INQUIRY = commands.SendInquiry.model_config["json_schema_extra"]["examples"][0]  # sent 2025-01-15
NOTE = {"text": "Fictional note."}
ANSWER = {"received_at": "2025-02-20", "summary": "Fictional: no record of this person."}


@pytest.fixture
def settings(kafka, topics, database_url) -> Settings:
    return Settings(
        kafka_bootstrap_servers=kafka, case_events_topic=topics.case_events,
        database_url=database_url("intake"), relay_idle_poll_seconds=0.2,
    )


@pytest.fixture
def intake_app(settings):
    return create_app(settings, clock=FakeClock())  # 2025-03-01 09:00 UTC


async def post(intake, path: str, body: dict, status: int = 201) -> dict:
    response = await intake.post(path, json=body)
    assert response.status_code == status, response.text
    return response.json()


def fields(refused: dict) -> list[list[str]]:
    return [error["loc"] for error in refused["detail"]]


async def new_inquiry(intake, case: str) -> str:
    return f"{case}/inquiries/{(await post(intake, f'{case}/inquiries', INQUIRY))['inquiry_id']}"


async def test_clock_rules_are_named_and_refusals_write_nothing(intake_app, kafka, topics):
    extension = {"due_at": "2025-04-15T00:00:00Z"}
    async with running(intake_app) as intake:
        case = f"/cases/{(await post(intake, '/cases', REPORT))['case_id']}"
        waiting, answered, withdrawn = [await new_inquiry(intake, case) for _ in range(3)]
        await post(intake, f"{answered}/responses", ANSWER)
        await post(intake, f"{withdrawn}/withdrawal", {})

        not_paused = await post(intake, f"{waiting}/resumption", {}, status=409)
        await post(intake, f"{waiting}/pause", {})  # today
        paused_again = await post(intake, f"{waiting}/pause", {}, status=409)
        of_answered = [
            await post(intake, f"{answered}/{path}", body, status=409)
            for path, body in [("pause", {}), ("resumption", {}), ("deadline-extension", extension)]
        ]
        of_withdrawn = await post(intake, f"{withdrawn}/pause", {}, status=409)
        invalid = [
            (await post(intake, f"{waiting}/{path}", body, status=422), field)
            for path, body, field in [
                ("resumption", {"resumed_on": "2025-02-28"}, "resumed_on"),  # before the pause
                ("resumption", {"resumed_on": "2025-03-02"}, "resumed_on"),  # tomorrow
                ("deadline-extension", {"due_at": "2025-01-10T00:00:00Z"}, "due_at"),  # pre-sent
                ("deadline-extension", {"due_at": "2025-04-15T00:00:00"}, "due_at"),  # no offset
                ("deadline-extension", {}, "due_at"),
            ]
        ]
        another = await new_inquiry(intake, case)
        invalid += [
            (await post(intake, f"{another}/pause", {"paused_on": day}, status=422), "paused_on")
            for day in ["2025-01-14", "2025-03-02", "2025-02"]  # before sent, tomorrow, no day
        ]
        unknown_inquiry = await post(intake, f"{case}/inquiries/{uuid.uuid4()}/pause", {}, 404)
        unknown_case = await post(
            intake, f"/cases/{uuid.uuid4()}/inquiries/{uuid.uuid4()}/deadline-extension",
            extension, status=404,
        )
        await post(intake, f"{case}/closure", {"outcome": "other"})
        closed = await post(intake, f"{another}/deadline-extension", extension, status=409)
        await post(intake, f"{case}/reopening", {"reason": "Fictional: news arrived."})
        await post(intake, f"{case}/notes", NOTE)  # the marker after the refusals
        on_log = await read_until(kafka, topics.case_events, lambda m: len(m) >= 11)

    assert not_paused["detail"]["rule"] == "inquiry_not_paused"
    assert paused_again["detail"]["rule"] == "inquiry_already_paused"
    assert [r["detail"]["rule"] for r in of_answered] == ["inquiry_answered"] * 3
    assert of_withdrawn["detail"]["rule"] == "inquiry_withdrawn"
    for refused, field in invalid:
        assert ["body", field] in fields(refused), refused
    assert "inquiry" in unknown_inquiry["detail"] and "case" in unknown_case["detail"]
    assert closed["detail"]["rule"] == "case_closed"
    assert [m["type"] for m in on_log] == [
        "report_received",
        "inquiry_sent", "inquiry_sent", "inquiry_sent",
        "official_response_received", "inquiry_withdrawn",
        "inquiry_paused",
        "inquiry_sent",
        "case_closed", "case_reopened",
        "note_added",
    ]
    [paused] = [m for m in on_log if m["type"] == "inquiry_paused"]
    assert paused["occurred_at"] == paused["data"]["paused_on"] == "2025-03-01"  # today


async def test_a_case_stored_by_an_earlier_intake_keeps_its_clock_rules(settings, kafka, topics):
    async with running(create_app(settings, clock=FakeClock())) as intake:
        case_id = (await post(intake, "/cases", REPORT))["case_id"]
        inquiry_id = (await post(intake, f"/cases/{case_id}/inquiries", INQUIRY))["inquiry_id"]

    # What the version before pauses stored for this case: the inquiry's state, no send date.
    engine = store.make_engine(settings.database_url)
    streams = store.CaseStream.__table__
    with store.writing(engine) as session:
        session.connection().execute(
            update(streams).where(streams.c.case_id == uuid.UUID(case_id))
            .values(state=json.dumps({"closed": False, "inquiries": {inquiry_id: "open"}}))
        )
        session.commit()

    inquiry = f"/cases/{case_id}/inquiries/{inquiry_id}"
    async with running(create_app(settings, clock=FakeClock())) as intake:
        too_early = await post(
            intake, f"{inquiry}/deadline-extension", {"due_at": "2025-01-10T00:00:00Z"}, 422
        )
        await post(intake, f"{inquiry}/pause", {"paused_on": "2025-02-20"})
        paused_again = await post(intake, f"{inquiry}/pause", {}, status=409)
        on_log = await read_until(kafka, topics.case_events, lambda m: len(m) >= 3)

    with engine.connect() as connection:
        stored = json.loads(connection.execute(
            select(streams.c.state).where(streams.c.case_id == uuid.UUID(case_id))
        ).scalar_one())
    engine.dispose()

    assert ["body", "due_at"] in fields(too_early)
    assert paused_again["detail"]["rule"] == "inquiry_already_paused"
    assert [m["type"] for m in on_log] == ["report_received", "inquiry_sent", "inquiry_paused"]
    assert stored == {
        "closed": False, "inquiries": {inquiry_id: "open"},
        "sent_at": {inquiry_id: "2025-01-15"}, "paused_on": {inquiry_id: "2025-02-20"},
        "scope": {"team": "almaty", "assignee": None},
        "consent": {"share_with_un_bodies": False, "share_with_media": False,
                    "share_with_partner_ngos": False},  # folded again: kept from now on
    }
