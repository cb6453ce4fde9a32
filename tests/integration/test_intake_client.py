"""The typed client speaks every intake command and surfaces intake's refusals as exceptions."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.intake import commands
from services.intake.app import create_app
from services.intake.client import PATHS, IntakeClient, IntakeRefused
from services.intake.config import Settings
from tests.support import FakeClock, running

pytestmark = pytest.mark.integration


def all_commands() -> set[type[commands.Command]]:
    found, todo = set(), [commands.Command]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub)
            todo.append(sub)
    return found


def test_every_command_has_a_client_path_that_is_a_route_taking_that_command():
    app = create_app(Settings())
    paths = app.openapi()["paths"]
    assert set(PATHS) == all_commands(), "a command the client cannot send (or a stale entry)"
    for command, template in PATHS.items():
        post = paths.get(template, {}).get("post")
        assert post is not None, f"{command.__name__}: no POST {template}"
        body = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert body.endswith(f"/{command.__name__}"), (command.__name__, body)


async def test_the_client_records_commands_and_raises_on_refusals(kafka, topics, database_url):
    app = create_app(
        Settings(kafka_bootstrap_servers=kafka, case_events_topic=topics.case_events,
                 database_url=database_url("intake")),
        clock=FakeClock(),
    )
    async with running(app) as http:
        intake = IntakeClient(http)  # its client authenticates as a caseworker
        opened = await intake.record(commands.ReportCase.model_validate({
            "subject": {"name": "张伟 (fictional)"},
            "reporter": {"name": "Fictional Neighbour", "relationship": "neighbour"},
            "summary": "Fictional: taken from home by plain-clothes officers.",
        }))
        sent = await intake.record(
            commands.SendInquiry.model_validate({
                "recipient": {"name": "Fictional Embassy", "kind": "embassy", "country": "CN"},
                "channel": "email", "sent_at": "2025-02-01",
            }),
            case_id=opened.case_id, idempotency_key="send-1",
        )
        answered = await intake.record(
            commands.RecordResponse(received_at="2025-02-15", summary="Fictional: no record."),
            case_id=opened.case_id, inquiry_id=sent.inquiry_id, if_match=2,
        )
        with pytest.raises(IntakeRefused) as stale:
            await intake.record(
                commands.RecordContactLost(last_contact_at="2019", circumstances="Fictional."),
                case_id=opened.case_id, if_match=1,
            )
    assert (opened.sequence, sent.sequence, answered.sequence) == (1, 2, 3)
    assert sent.inquiry_id is not None and answered.inquiry_id == sent.inquiry_id
    assert stale.value.status_code == 409 and stale.value.detail["current_version"] == 3


async def test_the_client_records_clock_stops_extensions_and_check_ins(
    kafka, topics, database_url
):
    app = create_app(
        Settings(kafka_bootstrap_servers=kafka, case_events_topic=topics.case_events,
                 database_url=database_url("intake")),
        clock=FakeClock(),  # 2025-03-01 09:00 UTC
    )
    async with running(app) as http:
        intake = IntakeClient(http)  # its client authenticates as a caseworker
        opened = await intake.record(commands.ReportCase.model_validate({
            "subject": {"name": "Fictional Person"},
            "reporter": {"name": "Fictional Sister", "relationship": "sister"},
            "summary": "Fictional: no news since a trip abroad.",
        }))
        case = {"case_id": opened.case_id}
        sent = await intake.record(commands.SendInquiry.model_validate({
            "recipient": {"name": "Fictional Ministry", "kind": "ministry", "country": "CN"},
            "channel": "letter", "sent_at": "2025-01-20",
        }), **case)
        on_inquiry = {**case, "inquiry_id": sent.inquiry_id}
        recorded = [
            await intake.record(commands.PauseInquiry(paused_on=date(2025, 2, 1)), **on_inquiry),
            await intake.record(commands.ResumeInquiry(), **on_inquiry),
            await intake.record(commands.ExtendDeadline(
                due_at=datetime(2025, 4, 30, tzinfo=UTC), reason="Fictional."), **on_inquiry),
            await intake.record(commands.RecordFamilyCheckIn(checked_in_at="2025-02-27"), **case),
        ]
        with pytest.raises(IntakeRefused) as resumed_twice:
            await intake.record(commands.ResumeInquiry(), **on_inquiry)

    assert [r.type for r in recorded] == [
        "inquiry_paused", "inquiry_resumed", "deadline_extended", "family_checked_in"]
    assert [r.inquiry_id for r in recorded] == [sent.inquiry_id] * 3 + [None]
    assert [r.sequence for r in recorded] == [3, 4, 5, 6]
    assert resumed_twice.value.status_code == 409
    assert resumed_twice.value.detail["rule"] == "inquiry_not_paused"
