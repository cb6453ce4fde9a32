"""What the benchmarks' services trust, as the stack would give it them: a signing key of the
benchmark's own (accounts' part), an account-events topic to follow, and a key store for case
keys. Nothing here is a real secret: it lives in the benchmark's temporary directory."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.access import Role
from contracts.keystore import write_new_master_key
from deploy.topics import ensure_topics
from services.accounts.signing import TokenFacts, access_token, public_pem


@dataclass(frozen=True)
class Credentials:
    """What the services trust in a benchmark, and a caseworker's token they accept."""

    env: dict[str, str]
    token: str


async def credentials(workdir: Path, bootstrap_servers: str) -> Credentials:
    """A signing key of the benchmark's own (as accounts would have), an account-events topic
    to follow, and a key store with a new master key."""
    keys = workdir / "keys"
    keys.mkdir()
    signing = Ed25519PrivateKey.generate()
    (keys / "access-token.pub").write_bytes(public_pem(signing.public_key()))
    write_new_master_key(keys / "master.key")
    account_events = f"bench-account-events-{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap_servers, [account_events])
    now = datetime.now(UTC)
    facts = TokenFacts("bench-caseworker", Role.CASEWORKER, "bench-team", "bench", auth_time=now)
    env = {"ACCESS_TOKEN_PUBLIC_KEY_FILE": str(keys / "access-token.pub"),
           "ACCOUNT_EVENTS_TOPIC": account_events,
           "MASTER_KEY_FILE": str(keys / "master.key"),
           "KEYSTORE_DATABASE_URL": f"sqlite:///{keys / 'keystore.db'}"}
    return Credentials(env, access_token(signing, facts, now, timedelta(hours=2)))
