"""The accounts store's migrations: `python -m services.accounts.migrate [--database-url URL] [revision]`.

Accounts upgrades its store to head at start-up (MIGRATE_ON_START, on by default); operators who
prefer to migrate as a separate deployment step turn that off and run this command.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from services.accounts.config import Settings
from services.accounts.store import make_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="defaults to DATABASE_URL")
    parser.add_argument("revision", nargs="?", default="head")
    args = parser.parse_args(argv)
    engine = make_engine(args.database_url or Settings().database_url)
    try:
        upgrade(engine, args.revision)
    finally:
        engine.dispose()
    print(f"accounts store migrated to {args.revision}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
