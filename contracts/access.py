"""The access contract: who a request comes from, and what they may see and do. Pure.

Every service enforces the same rules, so they live beside the event schemas: a signed access
token names the account, its role and its team; a case belongs to a team (from its
report_received) and may be assigned to a caseworker (case_assigned). Deny by default: a role
may do only what is listed here.

- caseworker: reads and records on their team's cases, and on cases assigned to them;
- supervisor: the same, and is told of escalations and reprisals;
- auditor: reads every case and the audit trail, and alone sees who read which case;
  records nothing;
- admin: manages accounts and erases subjects; reads no case content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

RECENT_AUTHENTICATION = timedelta(minutes=5)
"""How recently a password must have been entered for a sensitive action (erasure, export,
role changes): the token's `auth_time` no older than this."""


class Role(StrEnum):
    CASEWORKER = "caseworker"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """The person (or service) a request comes from, as its access token says."""

    account: str
    role: Role
    team: str | None
    session_id: str | None = None
    auth_time: datetime | None = None  # when the password was last entered in this session
    issuer: str = "local"

    def authenticated_recently(self, now: datetime) -> bool:
        return self.auth_time is not None and now - self.auth_time <= RECENT_AUTHENTICATION


@dataclass(frozen=True)
class CaseScope:
    """What access to a case depends on: its team and who it is assigned to."""

    team: str | None
    assignee: str | None


def may_read_case(principal: Principal, case: CaseScope) -> bool:
    if principal.role is Role.AUDITOR:
        return True
    return _works_on(principal, case)


def may_record_on_case(principal: Principal, case: CaseScope) -> bool:
    return _works_on(principal, case)


def may_open_case(principal: Principal) -> bool:
    """A new case belongs to the team of the caseworker or supervisor who records the report."""
    return principal.role in (Role.CASEWORKER, Role.SUPERVISOR) and principal.team is not None


def may_read_audit_trail(principal: Principal) -> bool:
    return principal.role in (Role.AUDITOR, Role.SUPERVISOR)


def may_read_access_log(principal: Principal) -> bool:
    """Who read which case is for auditors only: supervisors are among the readers audited,
    and the log shows where each caseworker has been looking."""
    return principal.role is Role.AUDITOR


def may_manage_accounts(principal: Principal) -> bool:
    return principal.role is Role.ADMIN


def may_erase_subject(principal: Principal) -> bool:
    return principal.role is Role.ADMIN


def sees_team_alerts(principal: Principal, team: str | None) -> bool:
    """A supervisor sees their team's alerts, an auditor every alert; others only their own."""
    return principal.role is Role.AUDITOR or (
        principal.role is Role.SUPERVISOR and team is not None and team == principal.team)


def _works_on(principal: Principal, case: CaseScope) -> bool:
    if principal.role not in (Role.CASEWORKER, Role.SUPERVISOR):
        return False
    if case.assignee is not None and case.assignee == principal.account:
        return True
    return case.team is not None and case.team == principal.team
