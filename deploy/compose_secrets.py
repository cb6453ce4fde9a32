"""Make every secret the compose stack mounts: `python -m deploy.compose_secrets [DIR]`.

Into DIR (deploy/secrets/ by default, which git ignores): a private CA for the Kafka cluster
and a certificate for each broker and for the admin; a random SCRAM password per service; the
PostgreSQL superuser's password, the SQL that makes each service's role and database, and
each service's env file with its database URLs; the master key, accounts' secrets key and the
token signing key pair. Nothing is overwritten: an existing directory is refused. Files are
0600 and, when run as root, owned by the user of the container that reads them.
"""

from __future__ import annotations

import argparse
import datetime
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from contracts.keystore import new_master_key_text
from services.accounts.signing import load_or_create_key

DEFAULT_DIR = Path(__file__).with_name("secrets")
BROKERS = ("kafka-1", "kafka-2", "kafka-3")
KAFKA_USERS = ("accounts", "intake", "casefile", "notify")
DATABASES = ("accounts", "intake", "casefile", "notify")
# The users the images run as: ours (deploy/Dockerfile), apache/kafka's, postgres's.
SERVICE_UID, KAFKA_UID, POSTGRES_UID = 10001, 1000, 999
CERTIFICATE_DAYS = 825


@dataclass(frozen=True)
class SecretFile:
    name: str
    content: bytes
    reader_uid: int | None  # None: read by compose on the host (env files), or public
    mode: int = 0o600


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    # Unencrypted PKCS#8: what Kafka's PEM key store and the services' mTLS settings read.
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _certificate(subject: str, key, issuer_key, issuer: x509.Name | None, *, ca: bool = False,
                 dns_names: tuple[str, ...] = ()) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer or name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=CERTIFICATE_DAYS))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False,
            encipher_only=False, decipher_only=False), critical=True)
    else:
        builder = builder.add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    if dns_names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def kafka_tls_files() -> list[SecretFile]:
    """The cluster's CA, each broker's key and certificate (its host name as SAN and CN, which
    is its principal), and the admin's client certificate."""
    ca_key = _key()
    ca = _certificate("casetracker-kafka-ca", ca_key, ca_key, None, ca=True)
    pem = serialization.Encoding.PEM
    files = [SecretFile("kafka-ca.pem", ca.public_bytes(pem), None, mode=0o644)]  # public
    for broker in BROKERS:
        key = _key()
        cert = _certificate(broker, key, ca_key, ca.subject, dns_names=(broker,))
        files.append(SecretFile(f"{broker}.pem", _pem_key(key) + cert.public_bytes(pem),
                                KAFKA_UID))
    admin_key = _key()
    admin = _certificate("admin", admin_key, ca_key, ca.subject)
    # read by the jobs that provision topics and users, which run as our image's user
    files.append(SecretFile("kafka-admin.pem", _pem_key(admin_key) + admin.public_bytes(pem),
                            SERVICE_UID))
    return files


def _password() -> str:
    return secrets.token_urlsafe(32)


def database_files(*, prefix: str = "", host: str = "postgres:5432") -> list[SecretFile]:
    """A role and a database per service, and one for the key store with a writer (intake)
    and a reader (casefile: SELECT only). `prefix` and `host`: for trying them elsewhere."""
    roles = {name: prefix + name for name in (*DATABASES, "keystore", "keystore_writer",
                                                "keystore_reader")}
    passwords = {role: _password() for role in roles.values()}
    sql = [f"CREATE ROLE {roles[name]} LOGIN PASSWORD '{passwords[roles[name]]}';\n"
           f"CREATE DATABASE {roles[name]} OWNER {roles[name]};" for name in DATABASES]
    writer, reader = roles["keystore_writer"], roles["keystore_reader"]
    sql += [f"CREATE ROLE {writer} LOGIN PASSWORD '{passwords[writer]}';",
            f"CREATE ROLE {reader} LOGIN PASSWORD '{passwords[reader]}';",
            f"CREATE DATABASE {roles['keystore']} OWNER {writer};",
            f"\\connect {roles['keystore']}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {writer} IN SCHEMA public "
            f"GRANT SELECT ON TABLES TO {reader};"]

    def url(role: str, database: str) -> str:
        return f"postgresql+psycopg://{role}:{passwords[role]}@{host}/{database}"

    envs = {name: [f"DATABASE_URL={url(roles[name], roles[name])}"] for name in DATABASES}
    envs["intake"].append(f"KEYSTORE_DATABASE_URL={url(writer, roles['keystore'])}")
    envs["casefile"].append(f"KEYSTORE_DATABASE_URL={url(reader, roles['keystore'])}")
    files = [SecretFile("postgres-password", _password().encode(), POSTGRES_UID),
             SecretFile("postgres-init.sql", ("\n".join(sql) + "\n").encode(), POSTGRES_UID)]
    files += [SecretFile(f"{name}.env", ("\n".join(lines) + "\n").encode(), None)
              for name, lines in envs.items()]
    return files


def key_files(directory: Path) -> list[SecretFile]:
    """The master key (intake, casefile), accounts' secrets key, and the token signing pair."""
    signing = directory / "access-token.key"
    load_or_create_key(signing)  # written in place (0600), with its .pub beside it
    files = [SecretFile("master.key", (new_master_key_text() + "\n").encode(), SERVICE_UID),
             SecretFile("accounts-secrets.key", (new_master_key_text() + "\n").encode(),
                        SERVICE_UID)]
    for name in ("access-token.key", "access-token.pub"):
        path = directory / name
        files.append(SecretFile(name, path.read_bytes(), SERVICE_UID))
        path.unlink()
    return files


def make(directory: Path, *, chown: bool) -> list[Path]:
    """Write every secret into a new directory; refuse one that exists."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=False)
    files = [*kafka_tls_files(), *database_files(), *key_files(directory)]
    files += [SecretFile(f"kafka-{user}-password", _password().encode(), SERVICE_UID)
              for user in KAFKA_USERS]
    written = []
    for secret in files:
        path = directory / secret.name
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(secret.content)
        os.chmod(path, secret.mode)
        if chown and secret.reader_uid is not None:
            os.chown(path, secret.reader_uid, secret.reader_uid)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--no-chown", action="store_true",
                        help="leave the files owned by whoever runs this")
    args = parser.parse_args(argv)
    if args.directory.exists():
        parser.error(f"{args.directory} exists; secrets are never overwritten (move it away to "
                     "make new ones, and rotate them in the running stack first)")
    chown = not args.no_chown and os.geteuid() == 0
    written = make(args.directory, chown=chown)
    print(f"wrote {len(written)} files to {args.directory}"
          + ("" if chown else " (not run as root: chown them to the containers' users, "
                              "see README)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
