"""Open an account from the command line, e.g. the first admin of a new installation:

    python -m services.accounts.bootstrap admin-1 --role admin

Asks for the password (twice, not echoed) and prints the authenticator's provisioning URI
once: scan it as a QR code into the person's authenticator app, then forget it.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime

from sqlmodel import Session

from contracts.access import Role
from services.accounts.app import limits
from services.accounts.config import Settings
from services.accounts.migrate import upgrade
from services.accounts.operations import Desk, Refused, create_account
from services.accounts.secret_box import load_secret_box
from services.accounts.signing import load_or_create_key
from services.accounts.store import make_engine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("account")
    parser.add_argument("--role", choices=[r.value for r in Role], default=Role.ADMIN.value)
    parser.add_argument("--team", default=None)
    args = parser.parse_args(argv)
    password = getpass.getpass("password: ")
    if getpass.getpass("again: ") != password:
        print("the passwords differ", file=sys.stderr)
        return 2
    settings = Settings()
    desk = Desk(key=load_or_create_key(settings.signing_key_file), box=load_secret_box(settings),
                limits=limits(settings), demo_mode=settings.demo_mode)
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        with Session(engine) as session:
            uri = create_account(session, desk, account=args.account, role=Role(args.role),
                                 team=args.team, password=password, by="bootstrap",
                                 now=datetime.now(UTC))
            session.commit()
    except Refused as refused:
        print(f"refused: {refused.reason}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(f"account {args.account} opened as {args.role}")
    if uri:
        print(f"authenticator provisioning URI (shown once): {uri}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
