"""Every service's app, for tests that go through all of them."""

from __future__ import annotations

from fastapi import FastAPI

from services.accounts.app import create_app as create_accounts
from services.accounts.config import Settings as AccountsSettings
from services.casefile.app import create_app as create_casefile
from services.casefile.config import Settings as CasefileSettings
from services.intake.app import create_app as create_intake
from services.intake.config import Settings as IntakeSettings
from services.notify.app import create_app as create_notify
from services.notify.config import Settings as NotifySettings

SERVICES = {"intake": (create_intake, IntakeSettings),
            "casefile": (create_casefile, CasefileSettings),
            "notify": (create_notify, NotifySettings),
            "accounts": (create_accounts, AccountsSettings)}


def unstarted_app(name: str, **settings: object) -> FastAPI:
    """The service's app, built but not started: routes, middleware, OpenAPI; no broker, no DB."""
    create, settings_class = SERVICES[name]
    return create(settings_class(database_url="sqlite:///unused.db", **settings))
