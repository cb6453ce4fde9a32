"""deploy.compose_secrets: every secret the compose stack mounts, made once, kept private."""

import stat
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from deploy import compose_secrets


@pytest.fixture(scope="module")
def secrets_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("stack") / "secrets"
    compose_secrets.make(directory, chown=False)
    return directory


def test_only_the_public_ca_certificate_is_readable_by_others(secrets_dir):
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in secrets_dir.iterdir()}
    assert modes.pop("kafka-ca.pem") == 0o644
    assert set(modes.values()) == {0o600}
    assert stat.S_IMODE(secrets_dir.stat().st_mode) == 0o700


def test_each_broker_certificate_names_its_host_and_is_signed_by_the_ca(secrets_dir):
    ca = x509.load_pem_x509_certificate((secrets_dir / "kafka-ca.pem").read_bytes())
    for broker in compose_secrets.BROKERS:
        pem = (secrets_dir / f"{broker}.pem").read_bytes()
        assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")  # unencrypted PKCS#8 first
        certificate = x509.load_pem_x509_certificate(pem[pem.index(b"-----BEGIN CERT"):])
        certificate.verify_directly_issued_by(ca)
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        assert names.value.get_values_for_type(x509.DNSName) == [broker]
        # the CN is the broker's principal, which server.properties makes a super user
        assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == broker


def test_the_database_urls_use_the_passwords_the_init_script_sets(secrets_dir):
    init = (secrets_dir / "postgres-init.sql").read_text()
    for service in compose_secrets.DATABASES:
        for line in (secrets_dir / f"{service}.env").read_text().splitlines():
            url = urlsplit(line.split("=", 1)[1])
            assert f"CREATE ROLE {url.username} LOGIN PASSWORD '{url.password}';" in init
    casefile = (secrets_dir / "casefile.env").read_text()
    assert "keystore_reader:" in casefile  # casefile only reads the case keys


def test_every_password_and_key_is_different(secrets_dir):
    values = [(secrets_dir / name).read_text() for name in
              ("master.key", "accounts-secrets.key", "postgres-password",
               *(f"kafka-{user}-password" for user in compose_secrets.KAFKA_USERS))]
    assert len(set(values)) == len(values)


def test_existing_secrets_are_never_overwritten(secrets_dir):
    before = (secrets_dir / "master.key").read_text()
    with pytest.raises(FileExistsError):
        compose_secrets.make(secrets_dir, chown=False)
    assert (secrets_dir / "master.key").read_text() == before
