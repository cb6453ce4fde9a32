"""Intake's schema comes from its alembic migrations, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from services.intake import store
from services.intake.migrate import upgrade

pytestmark = pytest.mark.integration


def test_the_migrations_build_exactly_the_schema_the_code_expects(database_url):
    engine = store.make_engine(database_url("intake"))
    try:
        upgrade(engine)
        upgrade(engine)  # a second start finds nothing to do
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, store.metadata) == []
            assert context.get_current_revision() is not None
    finally:
        engine.dispose()


def test_the_migrate_command_upgrades_a_fresh_database(database_url):
    url = database_url("intake")
    result = subprocess.run(
        [sys.executable, "-m", "services.intake.migrate", "--database-url", url],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    engine = store.make_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"case_stream", "case_event", "outbox", "idempotency_record", "alembic_version"} <= tables
