"""Demo mode's fictional accounts, so a newcomer can log in after `make up` (README).

Created only in demo mode and only while the store has no accounts; never in production.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from contracts.access import Role
from services.accounts.operations import Desk, create_account
from services.accounts.store import Account

DEMO_TEAM = "demo-team"
DEMO_PASSWORD = "demo-password-not-for-real-use"
DEMO_ACCOUNTS = (
    ("caseworker-demo", Role.CASEWORKER, DEMO_TEAM),
    ("supervisor-demo", Role.SUPERVISOR, DEMO_TEAM),
    ("auditor-demo", Role.AUDITOR, None),
    ("admin-demo", Role.ADMIN, None),
)


def create_demo_accounts(session: Session, desk: Desk, now: datetime) -> list[str]:
    if not desk.demo_mode or session.exec(select(Account).limit(1)).first() is not None:
        return []
    for account, role, team in DEMO_ACCOUNTS:
        create_account(session, desk, account=account, role=role, team=team,
                       password=DEMO_PASSWORD, by="demo-setup", now=now)
    return [account for account, _, _ in DEMO_ACCOUNTS]
