"""The services, as the web app calls them: always with the signed-in person's own token."""

from __future__ import annotations

from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx

from services.web.config import Settings

SERVICES = ("accounts", "intake", "casefile", "notify")


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def detail(self) -> Any:
        return self.body.get("detail") if isinstance(self.body, dict) else None

    @property
    def message(self) -> str:
        """What the service said, on one line: a 422's fields and reasons, a rule's message."""
        detail = self.detail
        if isinstance(detail, list) and detail:
            return "; ".join(f"{'.'.join(map(str, d.get('loc', [])[1:]))}: {d.get('msg')}"
                             for d in detail)
        if isinstance(detail, dict):
            return str(detail.get("msg") or detail.get("rule") or detail)
        return str(detail or self.status)


class Unavailable(Exception):
    """A service did not answer; nothing was recorded by this request."""

    def __init__(self, service: str) -> None:
        super().__init__(f"{service} did not answer")
        self.service = service


def no_cookies() -> CookieJar:
    """A jar that keeps nothing. One client serves every signed-in person: a cookie a service
    set for one of them (accounts sets the session's on login) must never go out with
    another's request."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


class Backends:
    def __init__(self, settings: Settings) -> None:
        timeout = httpx.Timeout(settings.backend_timeout_seconds)
        self._clients = {name: httpx.AsyncClient(base_url=getattr(settings, f"{name}_url"),
                                                 timeout=timeout, follow_redirects=False,
                                                 cookies=no_cookies())
                         for name in SERVICES}

    async def call(self, service: str, method: str, path: str, *, token: str | None,
                   client_address: str | None = None, json: Any = None,
                   params: Any = None, headers: dict[str, str] | None = None) -> Reply:
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        if client_address:  # believed only by services that list this app in TRUSTED_PROXIES
            sent["X-Forwarded-For"] = client_address
        try:
            response = await self._clients[service].request(method, path, json=json,
                                                            params=params, headers=sent)
        except httpx.HTTPError:
            raise Unavailable(service) from None
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = None
        return Reply(response.status_code, body, dict(response.headers))

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()
