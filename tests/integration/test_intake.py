"""Intake against the real broker: what a caseworker records lands on the log, validated."""

from __future__ import annotations

import json

import pytest

from services.intake.app import create_app
from services.intake.config import Settings
from tests.support import FakeClock, decrypted, eventually, read_topic, read_until, running

pytestmark = pytest.mark.integration

REPORT = {
    "subject": {"name": "Айгүл Сапарова"},
    "reporter": {"name": "Nurlan Saparov", "relationship": "brother"},
    "summary": "Fictional demo: did not return from a visit to relatives in 2017.",
}


@pytest.fixture
def intake_app(kafka, topics, database_url):
    settings = Settings(
        kafka_bootstrap_servers=kafka,
        case_events_topic=topics.case_events,
        database_url=database_url("intake"),
    )
    return create_app(settings, clock=FakeClock())


async def test_a_report_opens_a_case_whose_events_reach_the_log_in_order(intake_app, kafka, topics):
    async with running(intake_app) as intake:
        opened = await intake.post("/cases", json=REPORT)
        assert opened.status_code == 201, opened.text
        case_id = opened.json()["case_id"]
        lost = await intake.post(
            f"/cases/{case_id}/contact-lost",
            json={"last_contact_at": "2017-05", "circumstances": "Phone switched off at the border."},
        )
        inquiry = await intake.post(
            f"/cases/{case_id}/inquiries",
            json={
                "recipient": {"name": "Embassy in Astana", "kind": "embassy", "country": "cn"},
                "channel": "letter",
                "sent_at": "2025-02-10",
            },
        )
        assert lost.status_code == 201 and inquiry.status_code == 201, (lost.text, inquiry.text)
        inquiry_id = inquiry.json()["inquiry_id"]
        answer = await intake.post(
            f"/cases/{case_id}/inquiries/{inquiry_id}/responses",
            json={"received_at": "2025-02-20", "summary": "No record of this person."},
        )
        assert answer.status_code == 201, answer.text

    messages = await read_until(kafka, topics.case_events, lambda m: len(m) >= 4)
    on_log = [e for e in messages if e["case_id"] == case_id]
    assert [(e["type"], e["sequence"]) for e in on_log] == [
        ("report_received", 1),
        ("contact_lost", 2),
        ("inquiry_sent", 3),
        ("official_response_received", 4),
    ]
    assert on_log[2]["data"]["recipient"]["country"] == "CN"
    assert "Айгүл" not in str(on_log) and "Айгүл" not in json.dumps(on_log)  # only encrypted
    assert decrypted(on_log[0])["data"]["subject"]["name"] == "Айгүл Сапарова"


async def test_unknown_case_and_unknown_inquiry_are_404(intake_app):
    async with running(intake_app) as intake:
        missing = await intake.post(
            "/cases/00000000-0000-4000-8000-000000000000/contact-lost",
            json={"last_contact_at": "2017", "circumstances": "x"},
        )
        case_id = (await intake.post("/cases", json=REPORT)).json()["case_id"]
        no_inquiry = await intake.post(
            f"/cases/{case_id}/inquiries/00000000-0000-4000-8000-000000000000/responses",
            json={"received_at": "2025-01-01", "summary": "x"},
        )
    assert missing.status_code == 404 and "case" in missing.json()["detail"]
    assert no_inquiry.status_code == 404 and "inquiry" in no_inquiry.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**REPORT, "subject": {}}, ["body", "subject", "name"]),
        ({**REPORT, "reporter": {"name": "A"}}, ["body", "reporter", "relationship"]),
        ({**REPORT, "summary": "   "}, ["body", "summary"]),
        ({**REPORT, "reported_at": "2017-13"}, ["body", "reported_at"]),
        ({**REPORT, "reported_at": "2031-01-01"}, ["body", "reported_at"]),
        ({**REPORT, "surprise": 1}, ["body", "surprise"]),
    ],
)
async def test_malformed_reports_are_rejected_naming_the_field_and_nothing_is_written(
    intake_app, kafka, topics, body, field
):
    async with running(intake_app) as intake:
        response = await intake.post("/cases", json=body)
    assert response.status_code == 422
    assert field in [error["loc"] for error in response.json()["detail"]], response.json()
    assert await read_topic(kafka, topics.case_events) == []


async def test_inquiry_validation_names_the_field(intake_app):
    async with running(intake_app) as intake:
        case_id = (await intake.post("/cases", json=REPORT)).json()["case_id"]
        bad_kind = await intake.post(
            f"/cases/{case_id}/inquiries",
            json={"recipient": {"name": "X", "kind": "pigeon", "country": "CN"},
                  "channel": "letter", "sent_at": "2025-01-01"},
        )
        due_before_sent = await intake.post(
            f"/cases/{case_id}/inquiries",
            json={"recipient": {"name": "X", "kind": "embassy", "country": "CN"},
                  "channel": "letter", "sent_at": "2025-01-10", "due_at": "2025-01-01T00:00:00Z"},
        )
    assert ["body", "recipient", "kind"] in [e["loc"] for e in bad_kind.json()["detail"]]
    assert due_before_sent.status_code == 422
    assert due_before_sent.json()["detail"][0]["loc"] == ["body", "due_at"]


async def test_health_and_readiness(intake_app):
    async with running(intake_app) as intake:
        assert (await intake.get("/healthz")).status_code == 200
        ready = await eventually(
            lambda: intake.get("/readyz"), until=lambda r: r.json()["checks"]["broker"]
        )
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "broker": True, "outbox_backlog": 0,
                                      "revocations": True}
