"""Real peers on loopback for the channel tests: an SMTP server, a webhook receiver, a TLS cert."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from deploy.processes import free_port
from services.notify.channels.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """Trusts this certificate only, with hostname checks on, as production would."""
        return ssl.create_default_context(cafile=str(self.cert))


def self_signed_certificate(directory: Path) -> Certificate:
    """A certificate for 127.0.0.1, made by openssl (the lockfile has no crypto package)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a TLS certificate for the loopback peers")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
         "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return Certificate(cert, key)


class Mailbox:
    """An aiosmtpd handler that keeps what it accepts, or refuses every recipient with `refusal`."""

    def __init__(self, refusal: str | None = None) -> None:
        self.refusal = refusal
        self.received: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.logins: list[bytes] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.refusal:
            return self.refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.received.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        self.logins.append(auth_data.login)
        return AuthResult(success=auth_data.password == b"fictional-relay-password")


def body_text(mail: EmailMessage, subtype: str = "plain") -> str:
    """A part's text with the wire's CRLF line ends turned back into newlines."""
    return mail.get_body((subtype,)).get_content().replace("\r\n", "\n")


@contextmanager
def smtp_server(mailbox: Mailbox, **smtp_options) -> Iterator[int]:
    """aiosmtpd on 127.0.0.1 in its own thread; yields its port."""
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **smtp_options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@contextmanager
def silent_smtp_server() -> Iterator[int]:
    """A port that accepts connections (the kernel does) and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@dataclass
class Receiver:
    """A webhook receiver as an NGO might run one: it checks every signature it is sent."""

    secret: str
    statuses: deque[int] = field(default_factory=deque)  # replies to give, then 200s
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    redirected: int = 0

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        if not verify_signature(self.secret, headers.get(TIMESTAMP_HEADER.lower(), ""), body,
                                headers.get(SIGNATURE_HEADER.lower(), ""), datetime.now(UTC)):
            return Response(status_code=401)
        self.received.append((headers, body))
        return Response(status_code=self.statuses.popleft() if self.statuses else 204)

    async def hang(self, request: Request) -> Response:
        while not await request.is_disconnected():
            await asyncio.sleep(0.02)
        return Response(status_code=204)

    async def moved(self, request: Request) -> Response:
        self.redirected += 1
        return RedirectResponse("/hook", status_code=307)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hook", self.hook, methods=["POST"]),
                                 Route("/hang", self.hang, methods=["POST"]),
                                 Route("/moved", self.moved, methods=["POST"])])


@contextmanager
def http_server(app: Starlette, **ssl_files: str) -> Iterator[int]:
    """uvicorn on 127.0.0.1 in a thread of its own; yields its port."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="off", timeout_graceful_shutdown=1, **ssl_files)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the webhook receiver did not start")
        time.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=5)
