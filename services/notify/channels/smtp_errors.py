"""What an SMTP failure means for the next attempt: pure, so each is tested without a server."""

from __future__ import annotations

import ssl

import aiosmtplib

from services.notify.channels.errors import DeliveryFailed

# Most specific first: aiosmtplib's classes inherit from one another (a recipient refusal is a
# response exception, a connect timeout is both a timeout and a connect error).
_REPLY_KINDS: tuple[tuple[type[aiosmtplib.SMTPResponseException], str], ...] = (
    (aiosmtplib.SMTPRecipientRefused, "smtp_recipient_refused"),
    (aiosmtplib.SMTPSenderRefused, "smtp_sender_refused"),
    (aiosmtplib.SMTPDataError, "smtp_data_refused"),
    (aiosmtplib.SMTPAuthenticationError, "smtp_auth_refused"),
    (aiosmtplib.SMTPHeloError, "smtp_helo_refused"),
    (aiosmtplib.SMTPConnectResponseError, "smtp_connect_refused"),
)


def _reply(kind: str, code: int) -> DeliveryFailed:
    # 4xx is "try again later" in SMTP; 5xx is permanent (no such mailbox, policy refusal).
    retryable = not 500 <= code < 600
    return DeliveryFailed(f"{kind} {code}", retryable=retryable)


def classify_smtp_error(exc: BaseException) -> DeliveryFailed:
    """Name the failure by type and reply code only: reply texts quote addresses and content."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [refusal.code for refusal in exc.recipients] or [0]
        # One recipient per message: all refusals are that advocate's mailbox.
        temporary = [code for code in codes if not 500 <= code < 600]
        return _reply("smtp_recipient_refused", temporary[0] if temporary else codes[0])
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        kind = next((name for cls, name in _REPLY_KINDS if isinstance(exc, cls)), "smtp_reply")
        return _reply(kind, exc.code)
    if isinstance(exc, TimeoutError):  # aiosmtplib's timeouts are TimeoutErrors too
        return DeliveryFailed("smtp_timeout", retryable=True)
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        # The relay lacks what the settings require (STARTTLS, AUTH): no retry will fix that.
        return DeliveryFailed("smtp_not_supported", retryable=False)
    if isinstance(exc, ssl.SSLError):
        return DeliveryFailed(f"smtp_tls {type(exc).__name__}", retryable=True)
    if isinstance(exc, (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, OSError)):
        return DeliveryFailed("smtp_connection", retryable=True)
    if "STARTTLS" in str(exc):
        # aiosmtplib's own words (not the relay's) when STARTTLS is required but not offered:
        # retried, since a relay stripped of it may be under a downgrade attack for a while.
        return DeliveryFailed("smtp_starttls_unavailable", retryable=True)
    return DeliveryFailed(f"smtp_error {type(exc).__name__}", retryable=True)
