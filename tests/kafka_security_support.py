"""Test-only Kafka transport security: certificates made at test time, and a proxy that gives
the embedded broker the TLS (and SCRAM) front a production cluster has.

Tansu 0.6 as shipped here has no TLS listener (`--cert` is accepted and ignored: the port
still speaks plain Kafka) and cannot keep SCRAM credentials (`tansu user create` answers
success, but its memory and S3 stores write nothing, and `--authentication` then answers
every login `e=unknown-user`). So the proxy terminates TLS on loopback (optionally demanding a
client certificate) and, when given users, checks their SCRAM proof itself (RFC 5802/7677)
before passing the connection through to Tansu. The broker advertises the proxy's port, so
every connection a client makes after bootstrap comes back through TLS too.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import os
import secrets
import ssl
import struct
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Kafka API keys and error codes the proxy speaks itself.
API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE = 18, 17, 36
UNSUPPORTED_SASL_MECHANISM, SASL_AUTHENTICATION_FAILED = 33, 58
HASHES = {"SCRAM-SHA-256": hashlib.sha256, "SCRAM-SHA-512": hashlib.sha512}


@dataclass(frozen=True)
class CertFiles:
    cert: Path
    key: Path


class ThrowawayCA:
    """A throwaway certificate authority (EC P-256), its certificate written to `cafile`."""

    def __init__(self, directory: Path, name: str = "casetracker test CA") -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory, self.key = directory, ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.cert = (
            _builder(subject, subject, self.key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(self.key, hashes.SHA256()))
        self.cafile = directory / f"{_slug(name)}.pem"
        self.cafile.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, name: str, *, hosts: Iterable[str] = (), client: bool = False,
              key_password: bytes | None = None) -> CertFiles:
        """A leaf certificate: a server's for `hosts` (names or IP addresses), or a client's."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        builder = _builder(subject, self.cert.subject, key.public_key()).add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH if client
                                   else ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        if hosts:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([_general_name(h) for h in hosts]), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        stem = self.directory / _slug(name)
        files = CertFiles(stem.with_suffix(".crt"), stem.with_suffix(".key"))
        files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        encryption = (serialization.BestAvailableEncryption(key_password) if key_password
                      else serialization.NoEncryption())
        files.key.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                serialization.PrivateFormat.PKCS8, encryption))
        os.chmod(files.key, 0o600)
        return files


def _builder(subject: x509.Name, issuer: x509.Name, public_key) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1)))


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower())


@dataclass
class Connection:
    """What the proxy saw of one client connection."""

    tls_version: str | None = None
    client_cert: str | None = None  # the client certificate's common name
    sasl_user: str | None = None  # authenticated with SCRAM as
    mechanism: str | None = None
    refused: str | None = None  # why the proxy ended it before passing it through


@dataclass
class TlsProxy:
    """TLS on 127.0.0.1:`port`, then plain Kafka to 127.0.0.1:`upstream_port`, in a thread of
    its own (so it serves whatever event loop the test's clients run on)."""

    upstream_port: int
    server: CertFiles
    port: int = 0
    client_ca: Path | None = None  # demand a client certificate signed by this CA (mTLS)
    scram_users: dict[str, tuple[str, str]] = field(default_factory=dict)  # user: (mechanism, pw)
    connections: list[Connection] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _server: asyncio.Server | None = field(default=None, repr=False)

    def start(self) -> TlsProxy:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.server.cert, self.server.key)
        if self.client_ca is not None:
            context.load_verify_locations(self.client_ca)
            context.verify_mode = ssl.CERT_REQUIRED
        self._context = context
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tls-proxy",
                                        daemon=True)
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", self.port), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        async def close() -> None:
            self._server.close()
            for task in asyncio.all_tasks() - {asyncio.current_task()}:
                task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def passed(self) -> list[Connection]:
        """The connections let through to the broker: TLS done and, where SCRAM is asked for,
        authenticated. One the client dropped half-way is neither passed nor refused."""
        return [c for c in self.connections if c.refused is None and c.tls_version
                and (c.sasl_user or not self.scram_users)]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen = Connection()
        self.connections.append(seen)
        try:
            await writer.start_tls(self._context, ssl_handshake_timeout=10)
        except (ssl.SSLError, OSError) as exc:
            seen.refused = f"tls: {getattr(exc, 'reason', None) or type(exc).__name__}"
            writer.transport.abort()
            return
        tls = writer.get_extra_info("ssl_object")
        seen.tls_version = tls.version()
        if peer := writer.get_extra_info("peercert"):
            seen.client_cert = dict(pair[0] for pair in peer["subject"]).get("commonName")
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1",
                                                                         self.upstream_port)
        try:
            if self.scram_users and not await self._authenticate(
                    reader, writer, upstream_reader, upstream_writer, seen):
                return
            await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            for w in (writer, upstream_writer):
                w.close()

    async def _authenticate(self, reader, writer, upstream_reader, upstream_writer,
                            seen: Connection) -> bool:
        """SASL before anything reaches the broker: ApiVersions may pass, then the handshake
        and SCRAM's two rounds are answered here; anything else ends the connection."""
        scram: ScramExchange | None = None
        while True:
            frame = await _read_frame(reader)
            api_key, version, correlation_id, body = _request(frame)
            if api_key == API_VERSIONS:
                upstream_writer.write(_framed(frame))
                writer.write(_framed(await _read_frame(upstream_reader)))
            elif api_key == SASL_HANDSHAKE and version in (0, 1):
                mechanism = _string(body, 0)
                offered = sorted({m for m, _ in self.scram_users.values()})
                error = 0 if mechanism in offered else UNSUPPORTED_SASL_MECHANISM
                writer.write(_framed(struct.pack(">ih", correlation_id, error)
                                     + _string_array(offered)))
                if error:
                    seen.refused = f"sasl: mechanism {mechanism} not offered"
                    return False
                seen.mechanism = mechanism
            elif api_key == SASL_AUTHENTICATE and version in (0, 1) and seen.mechanism:
                token = _bytes(body, 0)
                if scram is None:
                    scram = ScramExchange(seen.mechanism, self.scram_users)
                    reply = scram.first(token)
                else:
                    reply = scram.final(token)
                if reply is None:
                    writer.write(_framed(_authenticate_response(
                        correlation_id, version, SASL_AUTHENTICATION_FAILED,
                        "Authentication failed", b"")))
                    seen.refused = "sasl: authentication failed"
                    return False
                writer.write(_framed(_authenticate_response(correlation_id, version, 0, None,
                                                            reply)))
                if scram.user is not None:
                    seen.sasl_user = scram.user
                    return True
            else:
                seen.refused = f"sasl: request {api_key} before authentication"
                return False
            await writer.drain()


class ScramExchange:
    """The server's side of one SCRAM-SHA-256/512 login (RFC 5802, 7677), channel binding off."""

    ITERATIONS = 4096

    def __init__(self, mechanism: str, users: dict[str, tuple[str, str]]) -> None:
        self.mechanism, self.users, self.user = mechanism, users, None
        self.hash = HASHES[mechanism]

    def first(self, client_first: bytes) -> bytes | None:
        text = client_first.decode()
        if not text.startswith("n,,"):
            return None
        self.client_first_bare = text[3:]
        attributes = dict(part.split("=", 1) for part in self.client_first_bare.split(","))
        self.name = attributes["n"].replace("=2C", ",").replace("=3D", "=")
        self.nonce = attributes["r"] + base64.b64encode(secrets.token_bytes(18)).decode()
        self.salt = secrets.token_bytes(16)
        self.server_first = (f"r={self.nonce},s={base64.b64encode(self.salt).decode()},"
                             f"i={self.ITERATIONS}")
        return self.server_first.encode()

    def final(self, client_final: bytes) -> bytes | None:
        text = client_final.decode()
        without_proof, _, proof = text.rpartition(",p=")
        if dict(p.split("=", 1) for p in without_proof.split(",")).get("r") != self.nonce:
            return None
        mechanism, password = self.users.get(self.name, (None, None))
        if mechanism != self.mechanism:
            return None
        salted = hashlib.pbkdf2_hmac(self.hash().name, password.encode(), self.salt,
                                     self.ITERATIONS)
        auth_message = f"{self.client_first_bare},{self.server_first},{without_proof}".encode()
        client_key = hmac.digest(salted, b"Client Key", self.hash)
        stored_key = self.hash(client_key).digest()
        signature = hmac.digest(stored_key, auth_message, self.hash)
        claimed = bytes(a ^ b for a, b in zip(base64.b64decode(proof), signature, strict=True))
        if not hmac.compare_digest(self.hash(claimed).digest(), stored_key):
            return None
        self.user = self.name
        server_key = hmac.digest(salted, b"Server Key", self.hash)
        return b"v=" + base64.b64encode(hmac.digest(server_key, auth_message, self.hash))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    size = struct.unpack(">i", await reader.readexactly(4))[0]
    return await reader.readexactly(size)


def _framed(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


def _request(frame: bytes) -> tuple[int, int, int, bytes]:
    """A request with a version 1 header (api key, version, correlation id, client id)."""
    api_key, version, correlation_id, client_id_length = struct.unpack(">hhih", frame[:10])
    return api_key, version, correlation_id, frame[10 + max(client_id_length, 0):]


def _string(data: bytes, at: int) -> str:
    length = struct.unpack(">h", data[at:at + 2])[0]
    return data[at + 2:at + 2 + length].decode()


def _bytes(data: bytes, at: int) -> bytes:
    length = struct.unpack(">i", data[at:at + 4])[0]
    return data[at + 4:at + 4 + length]


def _string_array(values: list[str]) -> bytes:
    return struct.pack(">i", len(values)) + b"".join(
        struct.pack(">h", len(v.encode())) + v.encode() for v in values)


def _authenticate_response(correlation_id: int, version: int, error: int, message: str | None,
                           token: bytes) -> bytes:
    encoded = message.encode() if message is not None else None
    text = struct.pack(">h", -1) if encoded is None else struct.pack(">h", len(encoded)) + encoded
    response = (struct.pack(">ih", correlation_id, error) + text + struct.pack(">i", len(token))
                + token)
    return response + struct.pack(">q", 0) if version >= 1 else response  # no re-login
