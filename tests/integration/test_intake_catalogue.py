"""Every command of the catalogue over HTTP, against the real broker and both databases.

Each lands on the log as its event, in sequence, on an unbroken hash chain; refusals name the
field or the rule and write nothing. The command bodies are the fictional examples the API
documents, so the documentation is exercised too.
"""

from __future__ import annotations

import json
import uuid

import pytest

from contracts import decode_event
from contracts.chain import verify_chain
from services.casefile.app import create_app as create_casefile
from services.casefile.config import Settings as CasefileSettings
from services.intake import commands
from services.intake.app import create_app
from services.intake.config import Settings
from tests.support import FakeClock, decrypted, eventually, read_topic, read_until, running

pytestmark = pytest.mark.integration


def example(command: type[commands.Command]) -> dict:
    return command.model_config["json_schema_extra"]["examples"][0]


NAMES = {
    "kazakh_cyrillic": "Айгүл Сапарқызы (fictional)",
    "latin_transliteration": "Aigul Saparkyzy (fictional)",
    "chinese": "艾古丽·萨帕尔（虚构）",
    "uyghur_arabic": "ئايگۈل ساپار (fictional)",
}
REPORT = {
    "subject": {"name": "Fictional Person"},
    "reporter": {"name": "Fictional Relative", "relationship": "cousin"},
    "summary": "Fictional: recorded by the catalogue tests.",
}
NOTE = {"text": "Fictional note."}


@pytest.fixture
def intake_app(kafka, topics, database_url):
    settings = Settings(
        kafka_bootstrap_servers=kafka,
        case_events_topic=topics.case_events,
        database_url=database_url("intake"),
        relay_idle_poll_seconds=0.2,
    )
    return create_app(settings, clock=FakeClock())


def of_case(messages: list[dict], case_id: str) -> list[dict]:
    return [m for m in messages if m["case_id"] == case_id]


async def post(intake, path: str, body: dict, status: int = 201) -> dict:
    response = await intake.post(path, json=body)
    assert response.status_code == status, response.text
    return response.json()


async def record_every_command(intake) -> tuple[str, list[str]]:
    """One case through every route, in an order the rules allow; returns the expected types."""
    case_id = (await post(intake, "/cases", example(commands.ReportCase)))["case_id"]
    case = f"/cases/{case_id}"
    steps = [
        ("/contact-lost", commands.RecordContactLost, "contact_lost"),
        ("/contact-restored", commands.RecordContactRestored, "contact_restored"),
        ("/information", commands.RecordInformation, "information_received"),
        ("/status", commands.RecordStatusChange, "status_changed"),
        ("/threats", commands.ReportThreat, "threat_reported"),
        ("/public-actions", commands.RecordPublicAction, "public_action_taken"),
        ("/family-check-ins", commands.RecordFamilyCheckIn, "family_checked_in"),
        ("/notes", commands.AddNote, "note_added"),
        ("/evidence", commands.AttachEvidence, "evidence_attached"),
        ("/assignment", commands.AssignCase, "case_assigned"),
    ]
    types = ["report_received"]
    for path, command, event_type in steps:
        assert (await post(intake, case + path, example(command)))["type"] == event_type
        types.append(event_type)
    answered = (await post(intake, f"{case}/inquiries", example(commands.SendInquiry)))[
        "inquiry_id"
    ]
    await post(intake, f"{case}/inquiries/{answered}/follow-ups", example(commands.SendFollowUp))
    await post(intake, f"{case}/inquiries/{answered}/responses", example(commands.RecordResponse))
    withdrawn = (await post(intake, f"{case}/inquiries", example(commands.SendInquiry)))[
        "inquiry_id"
    ]
    for path, command in [  # its clock stopped, started again and given more time, then withdrawn
        ("/pause", commands.PauseInquiry),
        ("/resumption", commands.ResumeInquiry),
        ("/deadline-extension", commands.ExtendDeadline),
        ("/withdrawal", commands.WithdrawInquiry),
    ]:
        await post(intake, f"{case}/inquiries/{withdrawn}{path}", example(command))
    await post(intake, f"{case}/closure", example(commands.CloseCase))
    await post(intake, f"{case}/reopening", example(commands.ReopenCase))
    types += [
        "inquiry_sent",
        "follow_up_sent",
        "official_response_received",
        "inquiry_sent",
        "inquiry_paused",
        "inquiry_resumed",
        "deadline_extended",
        "inquiry_withdrawn",
        "case_closed",
        "case_reopened",
    ]
    return case_id, types


async def test_every_command_lands_on_the_log_as_its_event_on_one_hash_chain(
    intake_app, kafka, topics
):
    async with running(intake_app) as intake:  # running: the outbox relay publishes meanwhile
        case_id, types = await record_every_command(intake)
        on_log = of_case(
            await read_until(kafka, topics.case_events, lambda m: len(m) >= len(types)), case_id
        )

    assert [m["type"] for m in on_log] == types
    assert [m["sequence"] for m in on_log] == list(range(1, len(types) + 1))
    events = [decode_event(json.dumps(m)) for m in on_log]
    assert verify_chain(events) == on_log[-1]["hash"]
    report = on_log[0]["data"]
    assert report["consent"] == example(commands.ReportCase)["consent"]
    number = report["subject"]["identity_documents"][0]["number"]
    assert number.startswith("enc:1:")  # personal: only encrypted on the log
    readable = decrypted(on_log[0])["data"]
    assert readable["subject"]["identity_documents"][0]["number"] == "DEMO0000001"
    evidence = next(m["data"] for m in on_log if m["type"] == "evidence_attached")
    assert evidence["sha256"] == example(commands.AttachEvidence)["sha256"]
    dated = {m["type"]: m["occurred_at"] for m in on_log}
    assert (dated["inquiry_paused"], dated["inquiry_resumed"]) == ("2025-02-20", "2025-02-27")
    assert dated["deadline_extended"] == "2025-03-01"  # granted the day it was recorded
    assert dated["family_checked_in"] == "2025-02-28T04:30:00Z"
    extended = next(m["data"] for m in on_log if m["type"] == "deadline_extended")
    assert extended["due_at"] == "2025-04-15T00:00:00Z"


async def test_names_in_four_scripts_round_trip_byte_exact(intake_app, kafka, topics):
    subject = {
        "name": NAMES["kazakh_cyrillic"],
        "other_names": [
            {"value": v, "kind": k} for k, v in NAMES.items() if k != "kazakh_cyrillic"
        ],
    }
    async with running(intake_app) as intake:
        case_id = (await post(intake, "/cases", {**REPORT, "subject": subject}))["case_id"]
        [message] = of_case(
            await read_until(kafka, topics.case_events, lambda m: len(m) >= 1), case_id
        )

    assert all(name.encode() not in json.dumps(message, ensure_ascii=False).encode()
               for name in NAMES.values())  # on the log only encrypted
    on_log = decrypted(message)["data"]["subject"]
    written = {"kazakh_cyrillic": on_log["name"]} | {
        n["kind"]: n["value"] for n in on_log["other_names"]
    }
    assert {k: v.encode() for k, v in written.items()} == {k: v.encode() for k, v in NAMES.items()}


async def test_a_closed_case_refuses_a_note_and_takes_a_reopening(intake_app, kafka, topics):
    async with running(intake_app) as intake:
        case_id = (await post(intake, "/cases", REPORT))["case_id"]
        await post(intake, f"/cases/{case_id}/closure", {"outcome": "family_request"})
        refused = await post(intake, f"/cases/{case_id}/notes", NOTE, status=409)
        closed_twice = await post(
            intake, f"/cases/{case_id}/closure", {"outcome": "other"}, status=409
        )
        await post(intake, f"/cases/{case_id}/reopening", {"reason": "Fictional: news arrived."})
        not_closed = await post(intake, f"/cases/{case_id}/reopening", {"reason": "x"}, status=409)
        await post(intake, f"/cases/{case_id}/notes", NOTE)
        on_log = await read_until(kafka, topics.case_events, lambda m: len(m) >= 4)

    assert refused["detail"]["rule"] == closed_twice["detail"]["rule"] == "case_closed"
    assert not_closed["detail"]["rule"] == "case_not_closed"
    assert [(m["type"], m["sequence"]) for m in on_log] == [
        ("report_received", 1),
        ("case_closed", 2),
        ("case_reopened", 3),
        ("note_added", 4),
    ]


async def test_inquiry_rules_are_named_and_refusals_write_nothing(intake_app, kafka, topics):
    async with running(intake_app) as intake:
        case_id = (await post(intake, "/cases", REPORT))["case_id"]
        inquiries = f"/cases/{case_id}/inquiries"
        inquiry_id = (await post(intake, inquiries, example(commands.SendInquiry)))["inquiry_id"]
        await post(intake, f"{inquiries}/{inquiry_id}/withdrawal", {})
        answer = await post(
            intake,
            f"{inquiries}/{inquiry_id}/responses",
            example(commands.RecordResponse),
            status=409,
        )
        follow_up = await post(
            intake,
            f"{inquiries}/{inquiry_id}/follow-ups",
            example(commands.SendFollowUp),
            status=409,
        )
        again = await post(intake, f"{inquiries}/{inquiry_id}/withdrawal", {}, status=409)
        unknown = await post(
            intake,
            f"{inquiries}/{uuid.uuid4()}/follow-ups",
            example(commands.SendFollowUp),
            status=404,
        )
        await post(intake, f"/cases/{case_id}/notes", NOTE)  # the marker after the refusals
        on_log = await read_until(kafka, topics.case_events, lambda m: len(m) >= 4)

    assert answer["detail"]["rule"] == follow_up["detail"]["rule"] == "inquiry_withdrawn"
    assert again["detail"]["rule"] == "inquiry_already_withdrawn"
    assert "inquiry" in unknown["detail"]
    assert [m["type"] for m in on_log] == [
        "report_received",
        "inquiry_sent",
        "inquiry_withdrawn",
        "note_added",
    ]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/cases",
            {**REPORT, "subject": {"name": "Fictional\x00Name"}},
            ["body", "subject", "name"],
        ),
        (
            "/cases",
            {**REPORT, "reporter": {**REPORT["reporter"], "name": "x" * 301}},
            ["body", "reporter", "name"],
        ),
        (
            "/cases",
            {
                **REPORT,
                "subject": {"name": "x", "other_names": [{"value": "y", "kind": "alias"}] * 21},
            },
            ["body", "subject", "other_names"],
        ),
        (
            "/cases",
            {**REPORT, "subject": {"name": "x", "date_of_birth": "1984-02-30"}},
            ["body", "subject", "date_of_birth"],
        ),
        (
            "/cases",
            {**REPORT, "subject": {"name": "x", "date_of_birth": "2030"}},
            ["body", "subject", "date_of_birth"],
        ),
        ("{case}/notes", {"text": "x" * 20_001}, ["body", "text"]),
        (
            "{case}/evidence",
            {**example(commands.AttachEvidence), "sha256": "AB" * 32},
            ["body", "sha256"],
        ),
        (
            "{case}/status",
            {"status": "vanished", "effective_at": "2019", "source": "x"},
            ["body", "status"],
        ),
        (
            "{case}/threats",
            {**example(commands.ReportThreat), "happened_at": "2025-03-02"},
            ["body", "happened_at"],
        ),
        ("{case}/family-check-ins", {"checked_in_at": "2025-02"}, ["body", "checked_in_at"]),
        (
            "{case}/family-check-ins",
            {"checked_in_at": "2025-03-01T10:00:00Z"},
            ["body", "checked_in_at"],
        ),
        ("{case}/family-check-ins", {"channel": "phone"}, ["body", "checked_in_at"]),
    ],
    ids=[
        "nul_in_name",
        "name_too_long",
        "too_many_names",
        "not_a_date",
        "born_in_the_future",
        "note_too_long",
        "uppercase_sha256",
        "unknown_status",
        "threat_in_the_future",
        "check_in_vaguer_than_a_day",
        "check_in_in_the_future",
        "check_in_undated",
    ],
)
async def test_bad_input_is_refused_naming_the_field_and_writes_nothing(
    intake_app, kafka, topics, path, body, field
):
    async with running(intake_app) as intake:
        case_id = (await post(intake, "/cases", REPORT))["case_id"]
        refused = await post(intake, path.format(case=f"/cases/{case_id}"), body, status=422)
        await post(intake, f"/cases/{case_id}/notes", NOTE)  # the marker after the refusal
        on_log = await read_until(kafka, topics.case_events, lambda m: len(m) >= 2)

    assert field in [error["loc"] for error in refused["detail"]], refused
    assert [m["type"] for m in on_log] == ["report_received", "note_added"]


async def test_casefile_folds_the_whole_catalogue(intake_app, kafka, topics, database_url):
    settings = CasefileSettings(
        kafka_bootstrap_servers=kafka,
        case_events_topic=topics.case_events,
        alert_events_topic=topics.alert_events,
        database_url=database_url("casefile"),
        consumer_group=f"casefile-{topics.case_events}",
        kafka_session_timeout_ms=3000,
        kafka_heartbeat_interval_ms=300,
    )
    async with running(intake_app) as intake, running(create_casefile(settings)) as casefile:
        case_id, types = await record_every_command(intake)
        timeline = await eventually(
            lambda: casefile.get(f"/cases/{case_id}/timeline"),
            until=lambda r: r.status_code == 200 and len(r.json()) == len(types),
        )
        case = (await casefile.get(f"/cases/{case_id}")).json()

    assert sorted(e["type"] for e in timeline.json()) == sorted(types)
    assert case["status"] == "sentenced"  # back to the subject's status once reopened
    assert sorted(i["state"] for i in case["inquiries"]) == ["answered", "withdrawn"]
    assert (case["inquiries_open"], case["inquiries_answered"]) == (0, 1)
    assert await read_topic(kafka, topics.alert_events) == []
