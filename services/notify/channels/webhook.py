"""The webhook channel: a signed JSON POST per alert and recipient, to an https receiver."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
import structlog
from pydantic import SecretStr

from contracts.hosts import is_loopback_host
from services.notify.channels.errors import ChannelNotConfigured, DeliveryFailed
from services.notify.channels.message import AlertMessage, delivery_id, webhook_body
from services.notify.channels.signing import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
    verify_signature,
)
from services.notify.config import Settings

__all__ = ["WebhookChannel", "check_url", "classify_status", "load_webhook_secret",
           "verify_signature"]

USER_AGENT = "casetracker-notify/1"
MIN_SECRET_CHARS = 32  # a short secret can be brute-forced from one captured request

log = structlog.get_logger("notify.channels.webhook")


def load_webhook_secret(settings: Settings) -> SecretStr:
    """The signing secret from WEBHOOK_SECRET or the file WEBHOOK_SECRET_FILE names; no default."""
    if settings.webhook_secret is not None and settings.webhook_secret_file is not None:
        raise ChannelNotConfigured("set WEBHOOK_SECRET or WEBHOOK_SECRET_FILE, not both")
    if settings.webhook_secret_file is not None:
        try:
            # A mounted secret file usually ends with a newline that is not part of the key.
            value = settings.webhook_secret_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ChannelNotConfigured(
                f"WEBHOOK_SECRET_FILE cannot be read ({type(exc).__name__})") from None
    elif settings.webhook_secret is not None:
        value = settings.webhook_secret.get_secret_value()
    else:
        raise ChannelNotConfigured("webhooks need WEBHOOK_SECRET or WEBHOOK_SECRET_FILE")
    if len(value) < MIN_SECRET_CHARS:
        raise ChannelNotConfigured(f"the webhook secret must have at least {MIN_SECRET_CHARS} "
                                   "characters")
    return SecretStr(value)


def check_url(url: str, *, allow_http_loopback: bool) -> None:
    """Refuse a URL an alert must not travel to: not https, unless plain http on loopback."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise DeliveryFailed("webhook_url_invalid", retryable=False) from None
    if not host:
        raise DeliveryFailed("webhook_url_invalid", retryable=False)
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and allow_http_loopback and is_loopback_host(host):
        return
    raise DeliveryFailed("webhook_url_refused_not_https", retryable=False)


def classify_status(status: int) -> DeliveryFailed | None:
    """None for a delivered alert; otherwise whether trying again later could help."""
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        # Never followed: a redirect could carry the alert to a host nobody configured.
        return DeliveryFailed(f"webhook_redirect_refused {status}", retryable=False)
    retryable = status in (408, 429) or status >= 500
    return DeliveryFailed(f"webhook_status {status}", retryable=retryable)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class WebhookChannel:
    """POSTs alerts; pass a shared httpx.AsyncClient, or close this channel with aclose()."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None, *,
                 clock: Callable[[], datetime] = _utc_now) -> None:
        self._secret = load_webhook_secret(settings)
        self._timeout = settings.webhook_timeout_seconds
        self._allow_http_loopback = settings.webhook_allow_http_loopback
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient(
            timeout=self._timeout, follow_redirects=False)
        self._clock = clock

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> WebhookChannel:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def send(self, message: AlertMessage, url: str) -> None:
        """Deliver one alert or raise DeliveryFailed; the URL is never logged (may hold a token)."""
        bound = log.bind(alert_id=str(message.alert_id), case_id=str(message.case_id),
                         recipient=message.recipient, channel="webhook")
        try:
            check_url(url, allow_http_loopback=self._allow_http_loopback)
            status = await self._post(message, url)
            failure = classify_status(status)
        except DeliveryFailed as exc:
            failure = exc
        if failure is not None:
            bound.warning("alert_delivery_attempt_failed", error=failure.error,
                          retryable=failure.retryable)
            raise failure
        bound.info("alert_delivered", status=status)

    async def _post(self, message: AlertMessage, url: str) -> int:
        body = webhook_body(message)
        timestamp = str(int(self._clock().timestamp()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self._secret, timestamp, body),
            DELIVERY_HEADER: str(delivery_id(message.alert_id, message.recipient)),
        }
        request = self._client.build_request("POST", url, content=body, headers=headers,
                                             timeout=self._timeout)
        try:
            # httpx's timeout bounds each read; this bounds the whole exchange, so a receiver
            # dripping bytes cannot hold a worker for ever.
            async with asyncio.timeout(self._timeout):
                # Streamed and closed unread: the receiver's reply is of no use and may be big.
                response = await self._client.send(request, stream=True, follow_redirects=False)
                await response.aclose()
        except (TimeoutError, httpx.TimeoutException):
            raise DeliveryFailed("webhook_timeout", retryable=True) from None
        except httpx.TransportError as exc:
            # from None: the exception's text can name the host or echo the server.
            raise DeliveryFailed(f"webhook_connection {type(exc).__name__}",
                                 retryable=True) from None
        return response.status_code
