"""The compose stack's PostgreSQL roles, made by deploy.compose_secrets' init script, on the real
PostgreSQL: each service migrates and uses its own database, and casefile can read the case
keys but never write or destroy one."""

from __future__ import annotations

import os
import uuid
from base64 import b64decode
from urllib.parse import urlsplit

import psycopg
import pytest
from sqlalchemy.exc import ProgrammingError

from contracts.keystore import KeyStore, MasterKey, make_engine, new_master_key_text
from deploy.compose_secrets import DATABASES, database_files
from tests.conftest import POSTGRES_ADMIN_URL, _postgres_reachable

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack_databases():
    """The init script run as the image runs it at first start, under a prefix of this test's;
    yields each service's env file as a dict, and drops what it made."""
    if not _postgres_reachable():
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but PostgreSQL is unreachable at {POSTGRES_ADMIN_URL}")
        pytest.skip("PostgreSQL is not running on this machine")
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    host = urlsplit(POSTGRES_ADMIN_URL).netloc.rsplit("@", 1)[-1]
    files = {f.name: f.content.decode() for f in database_files(prefix=prefix, host=host)}
    connection = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True)
    try:
        for line in files["postgres-init.sql"].splitlines():
            if line.startswith("\\connect "):
                connection.close()
                database = line.split()[1]
                connection = psycopg.connect(POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + database,
                                             autocommit=True)
            elif line.strip():
                connection.execute(line)
        connection.close()
        yield {name: dict(line.split("=", 1) for line in files[f"{name}.env"].splitlines())
               for name in DATABASES}
    finally:
        connection.close()
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            for name in (*DATABASES, "keystore"):
                admin.execute(f'DROP DATABASE IF EXISTS "{prefix}{name}" WITH (FORCE)')
            for name in (*DATABASES, "keystore_writer", "keystore_reader"):
                admin.execute(f'DROP ROLE IF EXISTS "{prefix}{name}"')


def test_intake_and_accounts_migrate_their_own_databases_as_their_own_roles(stack_databases):
    from services.accounts import migrate as accounts_migrate
    from services.intake import migrate as intake_migrate

    for service, migrate in (("intake", intake_migrate), ("accounts", accounts_migrate)):
        url = stack_databases[service]["DATABASE_URL"]
        assert migrate.main(["--database-url", url]) == 0
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                owner = connection.exec_driver_sql(
                    "SELECT tableowner FROM pg_tables WHERE tablename = 'alembic_version'"
                ).scalar_one()
        finally:
            engine.dispose()
        assert owner == urlsplit(url).username


def test_casefile_reads_the_case_keys_intake_made_and_cannot_write_or_erase_one(stack_databases):
    master = MasterKey(b64decode(new_master_key_text()))
    intake = KeyStore(make_engine(stack_databases["intake"]["KEYSTORE_DATABASE_URL"]), master)
    casefile = KeyStore(make_engine(stack_databases["casefile"]["KEYSTORE_DATABASE_URL"]), master)
    try:
        intake.prepare()  # intake creates the table as the key store's writer
        casefile.prepare()  # and casefile's start, finding it there, needs no more than that
        case_id = uuid.uuid4()
        written = intake.cipher_for_writing(case_id).encrypt("Fictional Person")
        intake.store_made()
        assert casefile.cipher(case_id).decrypt(written) == "Fictional Person"
        with pytest.raises(ProgrammingError, match="permission denied"):
            casefile.erase([case_id])
        other_case = uuid.uuid4()
        casefile.cipher_for_writing(other_case)
        with pytest.raises(ProgrammingError, match="permission denied"):
            casefile.store_made()
    finally:
        intake.dispose()
        casefile.dispose()
