"""How a channel says a delivery did not happen, in words safe to log and to record."""

from __future__ import annotations


class DeliveryFailed(Exception):
    """One attempt failed; `retryable` says whether another attempt could succeed.

    `error` names the kind of failure (e.g. "smtp_recipient_refused 550", "webhook_timeout").
    It never holds a server's reply text: replies echo addresses and sometimes the message,
    and `error` ends up in logs and on the log of record (alert_delivery_failed.error).
    """

    def __init__(self, error: str, *, retryable: bool) -> None:
        super().__init__(error)
        self.error = error
        self.retryable = retryable

    def __repr__(self) -> str:
        return f"DeliveryFailed({self.error!r}, retryable={self.retryable})"


class ChannelNotConfigured(Exception):
    """The settings do not allow this channel to run (e.g. no webhook secret); fix and restart."""
