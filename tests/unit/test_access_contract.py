"""The access contract: who may read and record on which case, and which tokens are trusted."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.access import (
    CaseScope,
    Principal,
    Role,
    may_open_case,
    may_read_case,
    may_record_on_case,
)
from contracts.account_events import (
    AccountRoleChanged,
    RevocationReason,
    SessionsRevoked,
    SessionsRevokedData,
)
from contracts.tokens import (
    AUDIENCE,
    LOCAL_ISSUER,
    InvalidToken,
    Revocations,
    TrustedIssuer,
    verify,
)

KEY = Ed25519PrivateKey.generate()
LOCAL = TrustedIssuer(LOCAL_ISSUER, AUDIENCE, key=KEY.public_key())
TEAM_CASE = CaseScope(team="almaty", assignee=None)


def person(role: Role, team: str | None = "almaty", account: str = "caseworker-7") -> Principal:
    return Principal(account=account, role=role, team=team)


@pytest.mark.parametrize("role, reads, records", [
    (Role.CASEWORKER, True, True), (Role.SUPERVISOR, True, True),
    (Role.AUDITOR, True, False), (Role.ADMIN, False, False),
])
def test_each_role_on_its_own_teams_case(role, reads, records):
    assert may_read_case(person(role), TEAM_CASE) is reads
    assert may_record_on_case(person(role), TEAM_CASE) is records


def test_another_teams_case_is_closed_unless_it_is_assigned_to_you():
    other = CaseScope(team="bishkek", assignee=None)
    assert not may_read_case(person(Role.CASEWORKER), other)
    assert not may_record_on_case(person(Role.SUPERVISOR), other)
    assigned = CaseScope(team="bishkek", assignee="caseworker-7")
    assert may_read_case(person(Role.CASEWORKER), assigned)
    assert may_record_on_case(person(Role.CASEWORKER), assigned)
    assert may_read_case(person(Role.AUDITOR, team=None), other)


def test_a_case_from_before_teams_is_open_to_its_assignee_and_auditors_only():
    legacy = CaseScope(team=None, assignee=None)
    assert not may_read_case(person(Role.SUPERVISOR), legacy)
    assert may_read_case(person(Role.AUDITOR), legacy)


def test_only_caseworkers_and_supervisors_with_a_team_open_cases():
    assert may_open_case(person(Role.CASEWORKER))
    assert not may_open_case(person(Role.CASEWORKER, team=None))
    assert not may_open_case(person(Role.AUDITOR))
    assert not may_open_case(person(Role.ADMIN))


def token(key=KEY, **claims) -> str:
    now = time.time()
    body = {"iss": LOCAL_ISSUER, "aud": AUDIENCE, "sub": "caseworker-7", "role": "caseworker",
            "team": "almaty", "sid": "s1", "iat": now, "exp": now + 600, "auth_time": now}
    return jwt.encode({**body, **claims}, key, algorithm="EdDSA")


def test_a_valid_token_names_the_account_role_team_and_session():
    principal, issued_at = verify(token(), [LOCAL])
    assert (principal.account, principal.role, principal.team, principal.session_id) == (
        "caseworker-7", Role.CASEWORKER, "almaty", "s1")
    assert principal.authenticated_recently(datetime.now(UTC))
    assert abs((datetime.now(UTC) - issued_at).total_seconds()) < 5


@pytest.mark.parametrize("bad, reason", [
    (dict(exp=time.time() - 120), "expired"),
    (dict(aud="another-system"), "invalid"),
    (dict(iss="someone-else"), "untrusted issuer"),
    (dict(role="superuser"), "no known role"),
])
def test_a_token_that_cannot_be_trusted_is_refused_saying_why(bad, reason):
    with pytest.raises(InvalidToken, match=reason):
        verify(token(**bad), [LOCAL])


def test_a_token_signed_by_another_key_or_altered_is_refused():
    with pytest.raises(InvalidToken):
        verify(token(key=Ed25519PrivateKey.generate()), [LOCAL])
    header, body, signature = token().split(".")
    with pytest.raises(InvalidToken):
        verify(f"{header}.{body[:-2]}AA.{signature}", [LOCAL])
    with pytest.raises(InvalidToken, match="not a JWT"):
        verify("not-a-token", [LOCAL])


def test_an_oidc_providers_groups_map_onto_the_roles():
    provider_key = Ed25519PrivateKey.generate()
    oidc = TrustedIssuer("https://id.ngo.example.org", "casetracker", key=provider_key.public_key(),
                         role_claim="groups", team_claim="team", name="oidc",
                         role_map={"ct-supervisors": Role.SUPERVISOR})
    signed = token(key=provider_key, iss="https://id.ngo.example.org", aud="casetracker",
                   groups=["staff", "ct-supervisors"], team=["almaty"], role=None)
    principal, _ = verify(signed, [LOCAL, oidc])
    assert (principal.role, principal.team, principal.issuer) == (Role.SUPERVISOR, "almaty", "oidc")


def test_revoked_sessions_and_changed_roles_refuse_older_tokens():
    revocations = Revocations()
    principal = person(Role.CASEWORKER)
    issued = datetime(2025, 3, 1, 9, tzinfo=UTC)
    seized = SessionsRevoked(event_id=uuid4(), account="caseworker-7", actor="caseworker-7",
                             occurred_at=issued + timedelta(minutes=1),
                             data=SessionsRevokedData(revoked_before=issued + timedelta(minutes=1),
                                                      reason=RevocationReason.DEVICE_SEIZED))
    revocations.apply(seized)
    assert revocations.is_revoked(principal, issued)
    assert not revocations.is_revoked(principal, issued + timedelta(minutes=2))
    assert not revocations.is_revoked(person(Role.CASEWORKER, account="caseworker-8"), issued)
    revocations.apply(AccountRoleChanged(
        event_id=uuid4(), account="caseworker-7", actor="admin-1",
        occurred_at=issued + timedelta(minutes=5), data={"role": "auditor"}))
    assert revocations.is_revoked(principal, issued + timedelta(minutes=2))
