"""What the browser tests do on the web app's pages, in a caseworker's words."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime

from playwright.sync_api import Page, expect

from tests.integration.browser.live_services import Person

UNLABELLED = """() => [...document.querySelectorAll(
    'input:not([type=hidden]), select, textarea')].filter(
    e => !e.labels.length && !e.getAttribute('aria-label')).map(e => e.name || e.id)"""


def log_in(page: Page, person: Person, now: datetime) -> None:
    page.get_by_label("Account").fill(person.account)
    page.get_by_label("Password").fill(person.password)
    page.get_by_label("Code from your authenticator app").fill(person.code(now))
    page.get_by_role("button", name="Log in").click()


def record(page: Page, link: str, fields: dict[str, str], *, selects: dict[str, str] = {},
           checks: tuple[str, ...] = ()) -> None:
    """Open a case's form by its link, fill it in by the fields' labels, and record it."""
    page.get_by_role("link", name=link, exact=True).first.click()
    fill(page, fields, selects=selects, checks=checks)
    page.get_by_role("button", name="Record").click()


def fill(page: Page, fields: dict[str, str], *, selects: dict[str, str] = {},
         checks: tuple[str, ...] = ()) -> None:
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    for label, value in selects.items():
        page.get_by_label(label, exact=True).select_option(value)
    for label in checks:
        page.get_by_label(label, exact=True).check()


def until_shown(page: Page, check: Callable[[], bool], *, timeout: float = 30) -> None:
    """Reload until the page shows what `check` looks for: the services catch up with the log
    on their own time (a person would press reload too)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{page.url} never showed it; it shows:\n{page.inner_text('main')}")
        time.sleep(0.3)
        page.reload()


def unlabelled_inputs(page: Page) -> list[str]:
    return page.evaluate(UNLABELLED)


def case_id_of(page: Page) -> str:
    return re.search(r"/cases/([0-9a-f-]{36})", page.url).group(1)


def timeline_types(page: Page) -> list[str]:
    return page.locator("ol.timeline > li").evaluate_all(
        "items => items.map(i => i.dataset.type)")


__all__ = ["expect"]
