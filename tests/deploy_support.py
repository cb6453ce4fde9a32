"""What the deployment tests share: which program a container runs, and the variables its
Settings read."""

from __future__ import annotations

import re
from pathlib import Path

from deploy.configuration import variable_names

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SERVICES = ("accounts", "intake", "casefile", "notify")
# The caseworkers' site: a client of the services' HTTP APIs, with no Kafka, store or secret.
WEB_APP = "web"
# Variables whose value is a secret: they may only arrive from a secret store, never inline.
SECRET_VARIABLES = {"KAFKA_SASL_PASSWORD", "MASTER_KEY", "SECRETS_KEY", "SMTP_PASSWORD",
                    "WEBHOOK_SECRET", "DATABASE_URL", "KEYSTORE_DATABASE_URL"}
# a URL carrying a password (scheme://user:password@host)
PASSWORD_IN_URL = re.compile(r"://[^/@:\s]+:[^/@\s]+@")

_PROGRAMS = {"services.intake.migrate": "intake", "services.accounts.migrate": "accounts",
             "deploy.provision": "provision",
             **{f"services.{name}": name for name in (*SERVICES, WEB_APP)}}


def program_of(command: list[str]) -> str:
    """The Settings a container reads, from its `python -m MODULE` command."""
    assert command[:2] == ["python", "-m"], f"not a `python -m` command: {command}"
    return _PROGRAMS[command[2]]


def read_by(program: str) -> set[str]:
    return variable_names(program)


def migrated_services() -> set[str]:
    """The services whose store has alembic migrations, which a deployment runs as a job."""
    return {path.parent.name for path in (ROOT / "services").glob("*/migrations")}
