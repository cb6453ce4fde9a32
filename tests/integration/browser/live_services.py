"""Every service, as a browser meets them: each app served by uvicorn on its own loopback
port, on the real broker and real databases, all on one injected clock that the test moves.

They run in one background thread with its own event loop, so a synchronous Playwright test
drives the browser from the main thread while the services answer it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import httpx
import pyotp
import uvicorn
from fastapi import FastAPI
from sqlmodel import Session

from contracts.access import Role
from deploy.processes import free_port
from services.accounts.app import limits
from services.accounts.config import Settings as AccountsSettings
from services.accounts.migrate import upgrade
from services.accounts.operations import Desk, create_account
from services.accounts.secret_box import load_secret_box
from services.accounts.signing import load_or_create_key
from services.accounts.store import make_engine

ORDER = ("accounts", "intake", "casefile", "notify", "web")


@dataclass
class Person:
    """An account with its second factor, as its owner's authenticator app holds it."""

    account: str
    password: str
    totp: pyotp.TOTP

    def code(self, now: datetime) -> str:
        return self.totp.at(now)


def open_accounts(settings: AccountsSettings, people: list[tuple[str, Role, str | None]],
                  password: str, now: datetime) -> dict[str, Person]:
    """Accounts with a second factor, opened the way `services.accounts.bootstrap` opens the
    first admin of an installation (outside demo mode, where the second factor is required)."""
    desk = Desk(key=load_or_create_key(settings.signing_key_file), box=load_secret_box(settings),
                limits=limits(settings), demo_mode=False)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    opened = {}
    with Session(engine) as session:
        for account, role, team in people:
            uri = create_account(session, desk, account=account, role=role, team=team,
                                 password=password, by="bootstrap", now=now)
            opened[account] = Person(account, password, pyotp.parse_uri(uri))
        session.commit()
    engine.dispose()
    return opened


@dataclass
class LiveServices:
    build: Callable[[dict[str, str]], dict[str, FastAPI]]  # the apps, given every service's URL
    ports: dict[str, int] = field(default_factory=lambda: {name: free_port() for name in ORDER})
    _servers: list[uvicorn.Server] = field(default_factory=list)
    _thread: threading.Thread | None = None
    _failure: BaseException | None = None

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def start(self, timeout: float = 90) -> LiveServices:
        apps = self.build({name: self.url(name) for name in ORDER})
        self._servers = [uvicorn.Server(uvicorn.Config(
            apps[name], host="127.0.0.1", port=self.ports[name], log_config=None,
            access_log=False, lifespan="on")) for name in ORDER]
        self._thread = threading.Thread(target=self._serve, name="live-services", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        for name in ORDER:
            while not self._ready(name):
                if self._failure is not None or not self._thread.is_alive():
                    raise RuntimeError(f"the services stopped: {self._failure!r}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} was not ready within {timeout} s")
                time.sleep(0.1)
        return self

    def _serve(self) -> None:
        async def serve_all() -> None:
            await asyncio.gather(*(server.serve() for server in self._servers))

        try:
            asyncio.run(serve_all())
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            self._failure = exc

    def _ready(self, name: str) -> bool:
        try:
            return httpx.get(f"{self.url(name)}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        for server in self._servers:
            server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=60)
