"""Alert channels against real peers on loopback: an SMTP server and an HTTP webhook receiver.

Each failure a relay or receiver can give is produced by a real one, and the channel's verdict
(delivered, retry later, give up) is checked. Data is fictional.
"""

from __future__ import annotations

import traceback
from datetime import UTC, date, datetime

import httpx
import pytest
from structlog.testing import capture_logs

from services.notify.channels.digest import DigestEntry, render_digest
from services.notify.channels.email import EmailChannel
from services.notify.channels.errors import DeliveryFailed
from services.notify.channels.message import delivery_id, render_email, webhook_body
from services.notify.channels.webhook import WebhookChannel
from services.notify.config import Settings
from tests.integration.channel_peers import (
    Mailbox,
    Receiver,
    body_text,
    http_server,
    self_signed_certificate,
    silent_smtp_server,
    smtp_server,
)
from tests.unit.alert_messages import ALERT, CASE, fictional_alert

pytestmark = pytest.mark.integration

ADDRESS = "advocate.fictional@ngo.example"
SENDER = "alerts@ngo.example"
SECRET = "fictional-webhook-secret-0123456789abcdef"
SENT_AT = datetime(2025, 3, 15, 0, 2, tzinfo=UTC)


def email_channel(port: int, **settings) -> EmailChannel:
    options = dict(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none",
                   smtp_from=SENDER, smtp_timeout_seconds=2)
    tls_context = settings.pop("tls_context", None)
    return EmailChannel(Settings(**(options | settings)), tls_context=tls_context,
                        clock=lambda: SENT_AT)


def webhook_settings(**settings) -> Settings:
    return Settings(**({"webhook_secret": SECRET, "webhook_timeout_seconds": 2} | settings))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def receiver():
    receiver = Receiver(secret=SECRET)
    with http_server(receiver.app()) as port:
        receiver.base_url = f"http://127.0.0.1:{port}"
        yield receiver


@pytest.fixture(autouse=True)
def fresh_receiver(request):
    if "receiver" in request.fixturenames:
        receiver = request.getfixturevalue("receiver")
        receiver.received.clear()
        receiver.statuses.clear()
        receiver.redirected = 0


# --- email ----------------------------------------------------------------------------------

async def test_an_alert_email_arrives_with_its_headers_and_only_the_alert_in_its_body():
    mailbox = Mailbox()
    message = fictional_alert()
    with smtp_server(mailbox) as port, capture_logs() as logs:
        channel = email_channel(port)
        await channel.send(message, ADDRESS)
        await channel.send(message, ADDRESS)  # a re-send, as after a crash before recording

    first, again = mailbox.received
    assert mailbox.envelopes[0] == (SENDER, [ADDRESS])
    assert (first["From"], first["To"]) == (SENDER, ADDRESS)
    assert first["Subject"] == "[Casetracker] Inquiry overdue: case 0f1e2d3c"
    assert first["Message-ID"] == f"<{delivery_id(ALERT, 'advocate-7')}@ngo.example>"
    assert again["Message-ID"] == first["Message-ID"]
    assert again["References"] == first["References"]
    assert first["Date"] == "Sat, 15 Mar 2025 00:02:00 +0000"
    assert first["Auto-Submitted"] == "auto-generated"
    assert body_text(first) == render_email(message).text
    assert f"/cases/{CASE}" in body_text(first, "html")
    assert [entry["event"] for entry in logs] == ["alert_delivered", "alert_delivered"]
    assert logs[0]["recipient"] == "advocate-7" and ADDRESS not in repr(logs)


async def test_a_mailbox_the_relay_refuses_for_good_is_not_retried_and_its_reply_not_kept():
    mailbox = Mailbox(refusal=f"550 5.1.1 <{ADDRESS}>: Recipient address rejected")
    with smtp_server(mailbox) as port, capture_logs() as logs:
        with pytest.raises(DeliveryFailed) as refused:
            await email_channel(port).send(fictional_alert(), ADDRESS)

    assert (refused.value.error, refused.value.retryable) == ("smtp_recipient_refused 550", False)
    assert mailbox.received == []
    shown = repr(logs) + "".join(traceback.format_exception(refused.value))
    assert ADDRESS not in shown and "Recipient address rejected" not in shown


async def test_a_relay_asking_to_come_back_later_is_retried():
    with smtp_server(Mailbox(refusal="451 4.3.0 Mailbox busy, try again later")) as port:
        with pytest.raises(DeliveryFailed) as deferred:
            await email_channel(port).send(fictional_alert(), ADDRESS)

    assert (deferred.value.error, deferred.value.retryable) == ("smtp_recipient_refused 451", True)


async def test_a_relay_that_is_down_is_retried():
    with smtp_server(Mailbox()) as port:
        pass  # started and stopped: nothing listens on the port any more

    with pytest.raises(DeliveryFailed) as down:
        await email_channel(port).send(fictional_alert(), ADDRESS)

    assert (down.value.error, down.value.retryable) == ("smtp_connection", True)


async def test_a_relay_that_never_answers_times_out_and_is_retried():
    with silent_smtp_server() as port:
        with pytest.raises(DeliveryFailed) as silent:
            await email_channel(port, smtp_timeout_seconds=0.3).send(fictional_alert(), ADDRESS)

    assert (silent.value.error, silent.value.retryable) == ("smtp_timeout", True)


async def test_starttls_with_login_reaches_a_relay_that_requires_both(certificate):
    mailbox = Mailbox()
    relay = dict(tls_context=certificate.server_context(), require_starttls=True,
                 auth_required=True, authenticator=mailbox.authenticate)
    with smtp_server(mailbox, **relay) as port:
        channel = email_channel(port, smtp_security="starttls", smtp_username="notify",
                                smtp_password="fictional-relay-password",
                                tls_context=certificate.client_context())
        await channel.send(fictional_alert(), ADDRESS)

    assert mailbox.logins == [b"notify"]
    assert len(mailbox.received) == 1


async def test_starttls_is_required_so_a_relay_without_it_gets_nothing_in_clear():
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        with pytest.raises(DeliveryFailed) as refused:
            await email_channel(port, smtp_security="starttls").send(fictional_alert(), ADDRESS)

    assert (refused.value.error, refused.value.retryable) == ("smtp_starttls_unavailable", True)
    assert mailbox.received == []


async def test_implicit_tls_reaches_a_relay_that_speaks_only_tls(certificate):
    mailbox = Mailbox()
    with smtp_server(mailbox, ssl_context=certificate.server_context()) as port:
        channel = email_channel(port, smtp_security="tls", tls_context=certificate.client_context())
        await channel.send(fictional_alert(), ADDRESS)

    assert len(mailbox.received) == 1


async def test_the_daily_digest_arrives():
    mailbox = Mailbox()
    digest = render_digest("advocate-7", date(2025, 3, 15), [
        DigestEntry("overdue", CASE, datetime(2025, 3, 14, tzinfo=UTC), SENT_AT, "open"),
    ], public_base_url="https://tracker.example.org")
    with smtp_server(mailbox) as port, capture_logs() as logs:
        await email_channel(port).send_digest(digest, ADDRESS)

    [mail] = mailbox.received
    assert mail["Subject"] == "[Casetracker] Daily digest 2025-03-15: 1 alert"
    assert mail["Message-ID"] == f"<digest-{digest.digest_id}@ngo.example>"
    assert body_text(mail) == digest.text
    assert [entry["event"] for entry in logs] == ["digest_delivered"]
    assert ADDRESS not in repr(logs)


# --- webhook --------------------------------------------------------------------------------

async def test_a_webhook_arrives_signed_and_a_5xx_is_retried_with_the_same_delivery(receiver):
    receiver.statuses.extend([500])
    message = fictional_alert()
    async with WebhookChannel(webhook_settings()) as channel:
        with pytest.raises(DeliveryFailed) as failed:
            await channel.send(message, f"{receiver.base_url}/hook")
        await channel.send(message, f"{receiver.base_url}/hook")

    assert (failed.value.error, failed.value.retryable) == ("webhook_status 500", True)
    (first_headers, first_body), (headers, body) = receiver.received  # both passed verification
    assert body == first_body == webhook_body(message)
    assert headers["x-casetracker-delivery"] == str(delivery_id(ALERT, "advocate-7"))
    assert headers["x-casetracker-delivery"] == first_headers["x-casetracker-delivery"]
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"].startswith("casetracker-notify/")


async def test_a_webhook_signed_with_another_secret_is_refused_by_the_receiver(receiver):
    async with WebhookChannel(webhook_settings(webhook_secret="x" * 40)) as channel:
        with pytest.raises(DeliveryFailed) as refused:
            await channel.send(fictional_alert(), f"{receiver.base_url}/hook")

    assert (refused.value.error, refused.value.retryable) == ("webhook_status 401", False)
    assert receiver.received == []


async def test_a_receiver_that_hangs_hits_the_timeout(receiver):
    async with WebhookChannel(webhook_settings(webhook_timeout_seconds=0.3)) as channel:
        with pytest.raises(DeliveryFailed) as hung:
            await channel.send(fictional_alert(), f"{receiver.base_url}/hang")

    assert (hung.value.error, hung.value.retryable) == ("webhook_timeout", True)


async def test_a_redirect_is_not_followed(receiver):
    async with WebhookChannel(webhook_settings()) as channel:
        with pytest.raises(DeliveryFailed) as moved:
            await channel.send(fictional_alert(), f"{receiver.base_url}/moved")

    assert (moved.value.error, moved.value.retryable) == ("webhook_redirect_refused 307", False)
    assert receiver.redirected == 1 and receiver.received == []


async def test_a_receiver_that_is_down_is_retried():
    with http_server(Receiver(secret=SECRET).app()) as port:
        pass

    async with WebhookChannel(webhook_settings()) as channel:
        with pytest.raises(DeliveryFailed) as down:
            await channel.send(fictional_alert(), f"http://127.0.0.1:{port}/hook")

    assert (down.value.error, down.value.retryable) == ("webhook_connection ConnectError", True)


async def test_http_to_loopback_is_refused_when_not_allowed(receiver):
    async with WebhookChannel(webhook_settings(webhook_allow_http_loopback=False)) as channel:
        with pytest.raises(DeliveryFailed) as refused:
            await channel.send(fictional_alert(), f"{receiver.base_url}/hook")

    assert not refused.value.retryable
    assert receiver.received == []


async def test_an_https_receiver_is_reached_through_the_callers_client(certificate):
    receiver = Receiver(secret=SECRET)
    tls = dict(ssl_certfile=str(certificate.cert), ssl_keyfile=str(certificate.key))
    with http_server(receiver.app(), **tls) as port:
        url = f"https://127.0.0.1:{port}/hook"
        async with WebhookChannel(webhook_settings()) as untrusting:
            with pytest.raises(DeliveryFailed) as unverified:  # its own client trusts no such CA
                await untrusting.send(fictional_alert(), url)
        async with httpx.AsyncClient(verify=certificate.client_context()) as client:
            await WebhookChannel(webhook_settings(), client).send(fictional_alert(), url)

    assert unverified.value.retryable
    assert len(receiver.received) == 1
