"""The daily digest by email: once a day, after DIGEST_HOUR_UTC, each advocate with an email
address and something waiting gets one mail listing their open alerts, the most pressing first.

Sent at least once per advocate and day: the day is marked only after the relay took the mail,
and a mail sent again after a crash has the same Message-ID, so a client shows it once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

import structlog
from sqlalchemy import Engine
from sqlmodel import Session

from contracts.alert_events import DeliveryChannel
from services.notify import queries
from services.notify.api import public_state
from services.notify.channels.digest import DigestEntry, render_digest
from services.notify.channels.email import EmailChannel
from services.notify.channels.errors import DeliveryFailed
from services.notify.reconcile import Context
from services.notify.store import DigestSent

log = structlog.get_logger()


@dataclass
class DigestMailer:
    engine: Engine
    ctx: Context
    email: EmailChannel
    clock: Callable[[], datetime]
    hour_utc: int
    public_base_url: str | None = None
    interval: float = 60.0
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        while True:
            try:
                now = self.clock()
                if now.hour >= self.hour_utc:
                    await self.send_day(now.date(), now)
            except Exception as exc:
                log.error("digest_round_failed", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=self.interval)
            self.wake.clear()

    async def send_day(self, day: date, now: datetime) -> int:
        """Mail the day's digest to every advocate who has not had it; returns how many."""
        sent = 0
        for account in sorted(self.ctx.directory.advocates):
            address = self.ctx.directory.address(account, DeliveryChannel.EMAIL)
            if address is None:
                continue
            entries = await asyncio.to_thread(self._unsent_entries, account, day, now)
            if not entries:
                continue  # already sent today, or nothing waits for them
            digest = render_digest(account, day, entries, public_base_url=self.public_base_url)
            try:
                await self.email.send_digest(digest, address)
            except DeliveryFailed as failure:  # tried again next round
                log.warning("digest_not_sent", recipient=account, error=failure.error)
                continue
            await asyncio.to_thread(self._mark_sent, account, day)
            sent += 1
        return sent

    def _unsent_entries(self, account: str, day: date, now: datetime) -> list[DigestEntry]:
        with Session(self.engine) as session:
            if session.get(DigestSent, (account, day)) is not None:
                return []
            found = queries.digest(session, account, day, now)
            return [DigestEntry(kind=a.kind, case_id=a.case_id, due_at=a.due_at,
                                raised_at=a.raised_at, state=public_state(a, now))
                    for a in found.open]

    def _mark_sent(self, account: str, day: date) -> None:
        with Session(self.engine) as session:
            if session.get(DigestSent, (account, day)) is None:
                session.add(DigestSent(account=account, day=day))
            session.commit()
