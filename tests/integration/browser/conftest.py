"""The browser tests: Debian's Chromium driven by Playwright through the web app, against every
service on the real broker and real databases, all on one injected clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from contracts.access import Role
from services.accounts.app import create_app as create_accounts
from services.accounts.config import Settings as AccountsSettings
from services.accounts.signing import public_key_path
from services.casefile.app import create_app as create_casefile
from services.intake.app import create_app as create_intake
from services.notify.app import create_app as create_notify
from services.web.app import create_app as create_web
from services.web.config import Settings as WebSettings
from tests.integration.browser.live_services import LiveServices, Person, open_accounts
from tests.support import changed

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
# Without the background-networking flags Chromium keeps calling home, which this machine's
# closed network refuses, many times a second.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "var/screenshots"))
PASSWORD = "fictional-password-for-browser-tests"
PEOPLE = [("caseworker-almaty", Role.CASEWORKER, "team-almaty"),
          ("caseworker-bishkek", Role.CASEWORKER, "team-bishkek"),
          ("auditor-one", Role.AUDITOR, None)]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.call_failed = report.failed
    return report


@pytest.fixture
def browser(live, request) -> Iterator[Browser]:
    """Started after the services: Playwright's synchronous API keeps an event loop running in
    the test's thread, where the fixtures before it still call asyncio.run. When the test
    fails, every page it left open is saved (screenshot) and its text printed."""
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium "
                    "package (or set CHROMIUM_PATH)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        if getattr(request.node, "call_failed", False):
            _leave_evidence(chromium, SCREENSHOTS / "failed" / request.node.name)
        chromium.close()


def _leave_evidence(chromium: Browser, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for c, context in enumerate(chromium.contexts):
        for p, page in enumerate(context.pages):
            page.screenshot(path=str(directory / f"context{c}-page{p}.png"), full_page=True)
            print(f"--- what the browser showed at {page.url}:\n{page.inner_text('body')}")


@pytest.fixture
def shots(request) -> callable:
    """`shots(page, "today")` saves a full-page screenshot under var/screenshots/<test>/."""
    directory = SCREENSHOTS / request.node.name.replace("[", "-").replace("]", "")
    directory.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> Path:
        path = directory / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def production_accounts(accounts_settings) -> AccountsSettings:
    """Accounts as in production: a second factor required, no demo accounts."""
    return changed(accounts_settings, demo_mode=False)


@pytest.fixture
def people(production_accounts, clock) -> dict[str, Person]:
    return open_accounts(production_accounts, PEOPLE, PASSWORD, clock())


@pytest.fixture
def live(people, production_accounts, intake_settings, casefile_settings,
         notify_settings, topics, clock) -> Iterator[LiveServices]:
    """accounts, intake, casefile, notify and the web app, trusting accounts' tokens."""
    trust = {"access_token_public_key_file":
             public_key_path(production_accounts.signing_key_file),
             "account_events_topic": topics.account_events}

    def build(urls: dict[str, str]):
        return {
            "accounts": create_accounts(production_accounts, clock=clock),
            "intake": create_intake(changed(intake_settings, **trust), clock=clock),
            "casefile": create_casefile(changed(casefile_settings, **trust), clock=clock),
            "notify": create_notify(changed(notify_settings, **trust,
                                            consumer_group=f"notify-{uuid.uuid4().hex[:8]}"),
                                    clock=clock),
            "web": create_web(WebSettings(
                accounts_url=urls["accounts"], intake_url=urls["intake"],
                casefile_url=urls["casefile"], notify_url=urls["notify"]), clock=clock),
        }

    services = LiveServices(build).start()
    try:
        yield services
    finally:
        services.stop()
