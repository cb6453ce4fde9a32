"""Alerts reach advocates by email (a real SMTP server on loopback) and signed webhook (a real
HTTP receiver), once each; a failing channel is retried, recorded, and holds up nothing else."""

from __future__ import annotations

import asyncio
import json
import socket
from collections import deque

import pytest

from tests.integration.channel_peers import Mailbox, Receiver, body_text, http_server, smtp_server
from tests.integration.notify_support import REPORT, alerts, notify_log, of_type, open_case, record
from tests.support import eventually, running

pytestmark = pytest.mark.integration

SECRET = "fictional-webhook-secret-of-at-least-32-chars"


def dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket is closed


@pytest.fixture
def peers(tmp_path):
    mailbox, receiver = Mailbox(), Receiver(SECRET, statuses=deque([500, 503]))
    with smtp_server(mailbox) as smtp_port, http_server(receiver.app()) as http_port:
        advocates = tmp_path / "advocates.toml"
        advocates.write_text(
            '[[advocate]]\naccount = "caseworker-7"\nemail = "caseworker-7@example.org"\n'
            f'webhook = "http://127.0.0.1:{http_port}/hook"\n\n'
            '[[advocate]]\naccount = "supervisor-1"\nrole = "supervisor"\n'
            f'webhook = "http://127.0.0.1:{dead_port()}/hook"\n')
        settings = dict(
            advocates_file=advocates, smtp_host="127.0.0.1", smtp_port=smtp_port,
            smtp_security="none", smtp_from="notify@ngo.example.org", webhook_secret=SECRET,
            delivery_max_attempts=3, delivery_backoff_base_seconds=1,
            delivery_backoff_cap_seconds=2, public_base_url="https://cases.ngo.example.org")
        yield mailbox, receiver, settings


async def test_an_alert_reaches_each_advocate_on_each_channel_once_and_failures_are_recorded(
    intake_app, start_notify, clock, kafka, topics, peers
):
    mailbox, receiver, settings = peers

    async def delivered_or_given_up():
        clock.advance(seconds=1)  # the retries' backoff runs on notify's clock
        return await notify_log(kafka, topics)

    async with running(intake_app) as intake, start_notify(**settings) as notify:
        case_id = await open_case(intake)
        await record(intake, f"/cases/{case_id}/assignment", {"assignee": "caseworker-7"})
        await record(intake, f"/cases/{case_id}/threats", {
            "target": "family", "kind": "questioning", "happened_at": "2025-02-28",
            "description": "Fictional: relatives were questioned about the NGO."})
        log = await eventually(delivered_or_given_up, until=lambda e: len(
            of_type(e, "alert_delivered")) == 2 and of_type(e, "alert_delivery_failed"))
        await asyncio.sleep(0.5)
        listed = await alerts(notify)

    [alert] = listed
    assert alert["kind"] == "reprisal_reported"
    assert alert["recipients"] == ["caseworker-7", "supervisor-1"]
    assert {(d["recipient"], d["channel"], d["state"], d["attempts"]) for d in alert["deliveries"]} == {
        ("caseworker-7", "email", "delivered", 1), ("caseworker-7", "webhook", "delivered", 3),
        ("supervisor-1", "webhook", "failed", 3)}
    delivered = {(e["data"]["recipient"], e["data"]["channel"]): e["data"]["attempts"]
                 for e in of_type(log, "alert_delivered")}
    assert delivered == {("caseworker-7", "email"): 1, ("caseworker-7", "webhook"): 3}
    [failed] = of_type(log, "alert_delivery_failed")
    assert (failed["data"]["recipient"], failed["data"]["attempts"]) == ("supervisor-1", 3)
    assert failed["data"]["error"].startswith("webhook_")

    [mail] = mailbox.received
    assert mail["To"] == "caseworker-7@example.org" and "Reprisal reported" in mail["Subject"]
    assert f"https://cases.ngo.example.org/cases/{case_id}" in body_text(mail)
    posts = [json.loads(body) for _, body in receiver.received]
    assert len(posts) == 3 and len({p["delivery_id"] for p in posts}) == 1
    everything_sent = mail.as_string() + json.dumps(posts)
    for personal in (REPORT["subject"]["name"], REPORT["reporter"]["name"], "questioned"):
        assert personal not in everything_sent


async def test_the_daily_digest_is_mailed_once_a_day_after_its_hour(
    intake_app, start_notify, clock, kafka, topics, tmp_path
):
    mailbox = Mailbox()
    with smtp_server(mailbox) as smtp_port:
        advocates = tmp_path / "digest-advocates.toml"
        advocates.write_text('[[advocate]]\naccount = "caseworker-7"\n'
                             'email = "caseworker-7@example.org"\n')
        settings = dict(advocates_file=advocates, smtp_host="127.0.0.1", smtp_port=smtp_port,
                        smtp_security="none", smtp_from="notify@ngo.example.org",
                        digest_hour_utc=18)
        async with running(intake_app) as intake, start_notify(**settings) as notify:
            case_id = await open_case(intake)
            await record(intake, f"/cases/{case_id}/assignment", {"assignee": "caseworker-7"})
            await record(intake, f"/cases/{case_id}/inquiries", {
                "recipient": {"name": "Fictional Embassy", "kind": "embassy", "country": "CN"},
                "channel": "letter", "sent_at": "2025-01-02", "due_at": "2025-01-10T00:00:00Z"})
            await eventually(lambda: alerts(notify), until=lambda a: len(a) == 2)
            await eventually(lambda: asyncio.sleep(0, len(mailbox.received)),
                             until=lambda n: n == 2)  # the two alerts themselves, one mail each
            await asyncio.sleep(1.5)
            assert len(mailbox.received) == 2  # 09:00: not yet the digest's hour
            clock.now = clock.now.replace(hour=18, minute=30)
            await eventually(lambda: asyncio.sleep(0, len(mailbox.received)),
                             until=lambda n: n == 3)
            await asyncio.sleep(2.5)  # another round or two: no second digest today

    digest = mailbox.received[2]
    assert len(mailbox.received) == 3
    assert digest["Subject"] == "[Casetracker] Daily digest 2025-03-01: 2 alerts"
    assert digest["To"] == "caseworker-7@example.org"
    assert case_id[:8] in body_text(digest)
    assert REPORT["subject"]["name"] not in digest.as_string()
