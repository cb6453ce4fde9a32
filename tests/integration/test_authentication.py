"""Tokens across services: a session ended at accounts stops working in intake within moments
(account-events), and an NGO's own OpenID Connect provider can stand in for accounts."""

from __future__ import annotations

import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from services.accounts.app import create_app as create_accounts
from services.casefile.app import create_app as create_casefile
from tests.integration.accounts_support import bearer, log_in, seize_a_phone
from tests.integration.notify_support import REPORT
from tests.support import running

pytestmark = pytest.mark.integration


async def test_a_seized_phones_token_stops_working_in_intake_within_moments(
    accounts_settings, intake_trusting_accounts, clock
):
    async with running(create_accounts(accounts_settings, clock=clock), as_=None) as accounts:
        async with running(intake_trusting_accounts, as_=None) as intake:
            phone = await seize_a_phone(accounts, intake, clock)
            again = await log_in(accounts)
            after = await intake.post("/cases", json=REPORT, headers=bearer(again))

    assert phone.before.status_code == 201 and phone.before.json()["type"] == "report_received"
    assert phone.seized.status_code == 200
    assert phone.refused.json()["detail"] == "the session was ended"
    assert after.status_code == 201  # a new login, from a device the advocate still holds


def oidc_provider(tmp_path):
    """An NGO's identity provider, as far as casefile can tell: its key set and its tokens."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [{**jwk, "kid": "ngo-2025", "use": "sig",
                                          "alg": "RS256"}]}))

    def token(now, **claims):
        body = {"iss": "https://id.ngo.example.org", "aud": "casetracker", "sub": "aigerim",
                "iat": now.timestamp(), "exp": now.timestamp() + 300,
                "groups": ["staff", "ct-auditors"]}
        return jwt.encode({**body, **claims}, key, algorithm="RS256",
                          headers={"kid": "ngo-2025"})

    return path, token


async def test_tokens_of_an_oidc_provider_are_accepted_with_its_groups_mapped_to_roles(
    casefile_settings, clock, tmp_path
):
    jwks, token = oidc_provider(tmp_path)
    settings = casefile_settings.model_copy(update={
        "oidc_issuer": "https://id.ngo.example.org", "oidc_jwks_file": jwks,
        "oidc_role_claim": "groups", "oidc_role_map": {"ct-auditors": "auditor"}})
    async with running(create_casefile(settings, clock=clock), as_=None) as casefile:
        def get(bearer):
            return casefile.get("/verification", headers={"Authorization": f"Bearer {bearer}"})

        auditor = await get(token(clock.now))
        no_role = await get(token(clock.now, groups=["staff"]))
        other_audience = await get(token(clock.now, aud="another-system"))
        expired = await get(token(clock.now, exp=clock.now.timestamp() - 600))

    assert auditor.status_code == 200
    assert no_role.status_code == 401 and no_role.json()["detail"] == "access token no known role"
    assert other_audience.status_code == 401 and expired.status_code == 401
