"""What tests across accounts and intake do: the demo caseworker's devices, one of them seized.

Every name and text is fictional.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from tests.integration.notify_support import REPORT
from tests.support import eventually

DEMO_LOGIN = {"account": "caseworker-demo", "password": "demo-password-not-for-real-use"}


def bearer(session: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['access_token']}"}


async def log_in(accounts: httpx.AsyncClient) -> dict:
    """A session of the demo caseworker, as a device holds it."""
    return (await accounts.post("/sessions", json=DEMO_LOGIN)).json()


@dataclass(frozen=True)
class SeizedPhone:
    before: httpx.Response  # the phone's report before it was seized
    seized: httpx.Response  # every session ended, from the laptop
    refused: httpx.Response  # the phone's next report, once intake has heard of it


async def seize_a_phone(accounts: httpx.AsyncClient, intake: httpx.AsyncClient,
                        clock) -> SeizedPhone:
    """Logged in on a phone and a laptop, the caseworker reports a case from the phone; the
    phone is seized, every session is ended from the laptop, and the phone's next report is
    tried again until intake refuses it (within 15 s)."""
    phone, laptop = await log_in(accounts), await log_in(accounts)
    before = await intake.post("/cases", json=REPORT, headers=bearer(phone))
    seized = await accounts.post("/accounts/caseworker-demo/sessions/revocation",
                                 headers=bearer(laptop), json={"reason": "device_seized"})
    clock.advance(seconds=1)
    refused = await eventually(
        lambda: intake.post("/cases", json=REPORT, headers=bearer(phone)),
        until=lambda r: r.status_code == 401, timeout=15)
    return SeizedPhone(before, seized, refused)
