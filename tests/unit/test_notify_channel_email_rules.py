"""Email rules without a server: what a failure means, how TLS is chosen, what a mail holds."""

from __future__ import annotations

import asyncio
import ssl
from datetime import UTC, datetime

import aiosmtplib
import pytest

from services.notify.channels.email import EmailChannel, compose, smtp_options
from services.notify.channels.errors import ChannelNotConfigured, DeliveryFailed
from services.notify.channels.message import RenderedEmail
from services.notify.channels.smtp_errors import classify_smtp_error
from services.notify.config import Settings
from tests.unit.alert_messages import fictional_alert

ADDRESS = "aigul.fictional@example.org"
REPLY = f"5.1.1 <{ADDRESS}>: Recipient address rejected: User unknown"


@pytest.mark.parametrize("exc, error, retryable", [
    (aiosmtplib.SMTPRecipientRefused(550, REPLY, ADDRESS), "smtp_recipient_refused 550", False),
    (aiosmtplib.SMTPRecipientRefused(452, REPLY, ADDRESS), "smtp_recipient_refused 452", True),
    (aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(553, REPLY, ADDRESS)]),
     "smtp_recipient_refused 553", False),
    (aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(451, REPLY, ADDRESS)]),
     "smtp_recipient_refused 451", True),
    (aiosmtplib.SMTPSenderRefused(451, REPLY, ADDRESS), "smtp_sender_refused 451", True),
    (aiosmtplib.SMTPDataError(554, REPLY), "smtp_data_refused 554", False),
    (aiosmtplib.SMTPAuthenticationError(535, REPLY), "smtp_auth_refused 535", False),
    (aiosmtplib.SMTPConnectResponseError(421, REPLY), "smtp_connect_refused 421", True),
    (aiosmtplib.SMTPResponseException(421, REPLY), "smtp_reply 421", True),
    (aiosmtplib.SMTPConnectTimeoutError(REPLY), "smtp_timeout", True),
    (aiosmtplib.SMTPReadTimeoutError(REPLY), "smtp_timeout", True),
    (asyncio.TimeoutError(), "smtp_timeout", True),
    (aiosmtplib.SMTPConnectError(REPLY), "smtp_connection", True),
    (aiosmtplib.SMTPServerDisconnected(REPLY), "smtp_connection", True),
    (ConnectionRefusedError(111, REPLY), "smtp_connection", True),
    (ssl.SSLCertVerificationError(REPLY), "smtp_tls SSLCertVerificationError", True),
    (aiosmtplib.SMTPNotSupported(REPLY), "smtp_not_supported", False),
    (aiosmtplib.SMTPException("SMTP STARTTLS extension not supported by server."),
     "smtp_starttls_unavailable", True),
    (aiosmtplib.SMTPException(REPLY), "smtp_error SMTPException", True),
])
def test_a_failure_is_named_by_type_and_code_and_never_quotes_the_reply(exc, error, retryable):
    failure = classify_smtp_error(exc)

    assert (failure.error, failure.retryable) == (error, retryable)
    assert ADDRESS not in repr(failure) + str(failure)


@pytest.mark.parametrize("security, use_tls, start_tls", [
    ("starttls", False, True), ("tls", True, False), ("none", False, False),
])
def test_the_security_setting_picks_the_tls_mode(security, use_tls, start_tls):
    options = smtp_options(Settings(smtp_security=security, smtp_host="127.0.0.1"))
    assert (options["use_tls"], options["start_tls"]) == (use_tls, start_tls)


def test_plain_text_smtp_is_refused_off_loopback():
    with pytest.raises(ChannelNotConfigured):
        EmailChannel(Settings(smtp_security="none", smtp_host="mail.example.org"))
    smtp_options(Settings(smtp_security="none", smtp_host="::1"))


def test_login_only_with_a_username_and_a_password():
    assert smtp_options(Settings())["username"] is None
    assert smtp_options(Settings(smtp_password="pw"))["password"] is None
    with_login = smtp_options(Settings(smtp_username="notify", smtp_password="pw"))
    assert (with_login["username"], with_login["password"]) == ("notify", "pw")
    with pytest.raises(ChannelNotConfigured):
        smtp_options(Settings(smtp_username="notify"))


@pytest.mark.parametrize("sender", ["", "not an address", "Notify <notify@ngo.example>"])
def test_the_from_address_must_be_a_plain_address(sender):
    with pytest.raises(ChannelNotConfigured):
        EmailChannel(Settings(smtp_from=sender))


def test_a_mail_has_only_the_headers_it_needs():
    mail = compose(RenderedEmail("subject", "text\n", "<p>text</p>"), sender="n@ngo.example",
                   to=ADDRESS, message_id="<d@ngo.example>",
                   date=datetime(2025, 3, 1, 9, tzinfo=UTC), delivery="d",
                   references="<case-c@ngo.example>")

    assert [key for key in mail.keys()] == [
        "From", "To", "Subject", "Date", "Message-ID", "References", "Auto-Submitted",
        "X-Auto-Response-Suppress", "X-Casetracker-Delivery", "MIME-Version", "Content-Type",
    ]
    assert mail["Date"] == "Sat, 01 Mar 2025 09:00:00 +0000"
    assert [part.get_content_type() for part in mail.iter_parts()] == ["text/plain", "text/html"]


@pytest.mark.parametrize("address", [
    "", "no-at-sign", "Aigul <aigul@example.org>", "a@example.org, b@example.org",
    "a@example.org\r\nBcc: b@example.org",
])
async def test_an_address_that_is_not_one_mailbox_is_refused_before_connecting(address):
    channel = EmailChannel(Settings(smtp_host="127.0.0.1", smtp_port=1, smtp_security="none"))
    with pytest.raises(DeliveryFailed) as refused:
        await channel.send(fictional_alert(), address)
    assert refused.value.error == "email_address_invalid" and not refused.value.retryable
