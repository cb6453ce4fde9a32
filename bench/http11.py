"""A minimal HTTP/1.1 keep-alive client over asyncio streams, for the load generator only.

General clients (httpx) spend more CPU per request than the server under test, so the load
generator would measure itself. This one writes a request and reads the status line, the
headers and a Content-Length body; nothing else (no chunked bodies, TLS or redirects).
"""

from __future__ import annotations

import asyncio


class ProtocolError(Exception):
    """The server answered something this client does not speak."""


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._host_header = f"Host: {host}:{port}\r\n".encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: bytes = b""
    ) -> tuple[int, bytes]:
        """Send one request (`headers` as raw `Name: value\\r\\n` lines); returns status and body."""
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None
        self._writer.write(
            f"{method} {path} HTTP/1.1\r\n".encode() + self._host_header + headers
            + b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        )
        try:
            head = await self._reader.readuntil(b"\r\n\r\n")
            status, length, closing = _parse_head(head)
            payload = await self._reader.readexactly(length)
        except BaseException:
            self.close()  # a half-read response leaves the stream unusable
            raise
        if closing:
            self.close()
        return status, payload

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


def _parse_head(head: bytes) -> tuple[int, int, bool]:
    lines = head.split(b"\r\n")
    if not lines[0].startswith(b"HTTP/1.1 "):
        raise ProtocolError(f"unexpected status line {lines[0][:40]!r}")
    status = int(lines[0][9:12])
    length: int | None = None
    closing = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            closing = value.strip().lower() == b"close"
        elif name == b"transfer-encoding":
            raise ProtocolError("chunked responses are not supported")
    if length is None:
        raise ProtocolError("response without Content-Length")
    return status, length, closing
