"""The email channel: one SMTP message per alert and recipient, through the configured relay."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib
import structlog

from contracts.hosts import is_loopback_host
from services.notify.channels.digest import Digest
from services.notify.channels.errors import ChannelNotConfigured, DeliveryFailed
from services.notify.channels.message import (
    DELIVERY_NAMESPACE,
    AlertMessage,
    RenderedEmail,
    delivery_id,
    render_email,
)
from services.notify.channels.smtp_errors import classify_smtp_error
from services.notify.config import Settings

__all__ = ["EmailChannel", "compose", "smtp_options"]

log = structlog.get_logger("notify.channels.email")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def smtp_options(settings: Settings, tls_context: ssl.SSLContext | None = None) -> dict:
    """aiosmtplib's connection arguments for SMTP_SECURITY; refuses plain text off loopback."""
    if settings.smtp_security == "none" and not is_loopback_host(settings.smtp_host):
        raise ChannelNotConfigured("SMTP_SECURITY=none is only allowed to a loopback SMTP_HOST")
    if settings.smtp_username and settings.smtp_password is None:
        raise ChannelNotConfigured("SMTP_USERNAME is set but SMTP_PASSWORD is not")
    return {
        "hostname": settings.smtp_host,
        "port": settings.smtp_port,
        "timeout": settings.smtp_timeout_seconds,
        "use_tls": settings.smtp_security == "tls",
        # True, not None (aiosmtplib's "if offered"): a relay that drops STARTTLS must fail,
        # not receive the alert in clear.
        "start_tls": settings.smtp_security == "starttls",
        "tls_context": tls_context,
        "username": settings.smtp_username or None,
        "password": (settings.smtp_password.get_secret_value()
                     if settings.smtp_username and settings.smtp_password else None),
    }


def compose(rendered: RenderedEmail, *, sender: str, to: str, message_id: str, date: datetime,
            delivery: str, references: str | None = None) -> EmailMessage:
    """The MIME message: text first, the HTML alternative after it when there is one."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = rendered.subject
    mail["Date"] = format_datetime(date.astimezone(UTC))
    mail["Message-ID"] = message_id
    if references:
        # One thread per case and advocate in clients that thread by References.
        mail["References"] = references
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies or bounces loops
    mail["X-Auto-Response-Suppress"] = "All"  # the same for Exchange
    mail["X-Casetracker-Delivery"] = delivery  # stable across re-sends: a filter can dedupe on it
    mail.set_content(rendered.text)
    if rendered.html:
        mail.add_alternative(rendered.html, subtype="html")
    return mail


def _address(address: str) -> str:
    """A single addr-spec; anything else (a display name, a list, a line break) is refused."""
    try:
        parsed = Address(addr_spec=address)
    except (ValueError, IndexError, TypeError):
        raise DeliveryFailed("email_address_invalid", retryable=False) from None
    if not parsed.domain or parsed.addr_spec != address:
        raise DeliveryFailed("email_address_invalid", retryable=False)
    return address


class EmailChannel:
    """Sends alerts (and digests) over SMTP; one connection per message, as alerts are few."""

    def __init__(self, settings: Settings, *, tls_context: ssl.SSLContext | None = None,
                 clock: Callable[[], datetime] = _utc_now) -> None:
        self._options = smtp_options(settings, tls_context)
        try:
            self._domain = Address(addr_spec=settings.smtp_from).domain
        except (ValueError, IndexError, TypeError):
            self._domain = ""
        if not self._domain:
            raise ChannelNotConfigured("SMTP_FROM must be a plain address such as notify@ngo.org")
        self._sender = settings.smtp_from
        self._clock = clock

    def message_id(self, local: str) -> str:
        return f"<{local}@{self._domain}>"

    async def send(self, message: AlertMessage, address: str) -> None:
        """Deliver one alert to the advocate's address or raise DeliveryFailed."""
        delivery = str(delivery_id(message.alert_id, message.recipient))
        thread = uuid.uuid5(DELIVERY_NAMESPACE, f"case:{message.case_id}:{message.recipient}")
        mail = compose(render_email(message), sender=self._sender, to=_address(address),
                       message_id=self.message_id(delivery), date=self._clock(),
                       delivery=delivery, references=self.message_id(f"case-{thread}"))
        await self._deliver(mail, address, "alert", log.bind(
            alert_id=str(message.alert_id), case_id=str(message.case_id),
            recipient=message.recipient, channel="email"))

    async def send_digest(self, digest: Digest, address: str) -> None:
        """Deliver an advocate's daily digest or raise DeliveryFailed."""
        local = f"digest-{digest.digest_id}"
        mail = compose(RenderedEmail(digest.subject, digest.text), sender=self._sender,
                       to=_address(address), message_id=self.message_id(local),
                       date=self._clock(), delivery=str(digest.digest_id))
        await self._deliver(mail, address, "digest", log.bind(
            digest_day=digest.day.isoformat(), recipient=digest.recipient, channel="email"))

    async def _deliver(self, mail: EmailMessage, address: str, what: str,
                       bound: structlog.typing.FilteringBoundLogger) -> None:
        # The address goes to the relay only; logs name the advocate by account id.
        try:
            await aiosmtplib.send(mail, sender=self._sender, recipients=[address],
                                  **self._options)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            failure = classify_smtp_error(exc)
            bound.warning(f"{what}_delivery_attempt_failed", error=failure.error,
                          retryable=failure.retryable)
            raise failure from None  # the original's text may quote the address or the reply
        bound.info(f"{what}_delivered")

