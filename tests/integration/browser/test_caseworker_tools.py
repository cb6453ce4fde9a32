"""The rest of a caseworker's tools in a real browser: finding a case by a name in another
script, dealing with alerts (snooze, acknowledge), ending every session after a phone is
seized, and all of it with the keyboard alone on a phone-sized screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from services.web.config import TRANSLATIONS
from services.web.i18n import load_languages
from tests.integration.browser.pages import (
    case_id_of,
    fill,
    log_in,
    record,
    unlabelled_inputs,
    until_shown,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
SUBJECT = "Әсел Нұрланқызы (fictional)"
LATIN = "Asel Nurlankyzy (fictional)"


def open_case(page, subject: str, latin: str) -> str:
    page.goto("/cases/new")
    page.locator("#f-subject-other_names-0-value").fill(latin)
    page.locator("#f-subject-other_names-0-kind").select_option("latin_transliteration")
    fill(page, {"Name, as the family gives it": subject, "Reporter's name": "Fictional Relative",
                "Relationship to the subject": "sister", "What happened": "Fictional."})
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("heading", name=subject, level=1)).to_be_visible()
    return case_id_of(page)


def test_find_a_case_deal_with_a_reprisal_alert_and_end_every_session(browser, live, people,
                                                                      clock, shots):
    web = live.url("web")
    me = people["caseworker-almaty"]
    laptop = browser.new_context(base_url=web).new_page()
    laptop.goto("/")
    log_in(laptop, me, clock())
    case_id = open_case(laptop, SUBJECT, LATIN)
    record(laptop, "Assign", {"Caseworker's account": me.account})  # her alerts come to her
    open_case(laptop, "Бекзат Серікұлы (fictional)", "Bekzat Serikuly (fictional)")

    # Found by a fragment of its Latin transliteration, and by a fragment in Cyrillic.
    for fragment in ("nurlank", "нұрлан"):
        laptop.goto("/cases")
        laptop.get_by_label("Name, in any script").fill(fragment)
        laptop.get_by_role("button", name="Search").click()
        rows = laptop.locator("table.cases tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(SUBJECT)
    assert unlabelled_inputs(laptop) == []
    shots(laptop, "01-cases-found-by-name")

    # A threat against the family is an alert at once: on Today, among new reprisal reports.
    laptop.goto(f"/cases/{case_id}")
    record(laptop, "Threat or reprisal",
           {"When": "2025-02-27", "Description": "Fictional: the family was questioned."},
           selects={"Against": "family", "What": "questioning"})
    laptop.get_by_role("link", name="Today").click()
    until_shown(laptop, lambda: laptop.locator("#reprisals li.alert").count() == 1)
    shots(laptop, "02-today-reprisal")

    # Set aside until tomorrow: it leaves the list, and waits among my unacknowledged alerts.
    alert = laptop.locator("#reprisals li.alert").first
    alert.get_by_label("Snooze until (UTC)").fill("2025-03-02T09:00")
    alert.get_by_role("button", name="Snooze").click()
    expect(laptop.locator("#reprisals")).to_have_count(0)
    expect(laptop.locator("#set_aside li.alert")).to_have_count(1)
    laptop.locator("#set_aside li.alert").get_by_role("button", name="Acknowledge").click()
    expect(laptop.get_by_text("Nothing needs doing now.")).to_be_visible()
    laptop.get_by_role("link", name="Alerts").click()
    laptop.get_by_label("Show").select_option("acknowledged")
    laptop.get_by_role("button", name="Show").click()
    expect(laptop.locator("li.alert")).to_contain_text(me.account)

    # The phone is seized: from the laptop, every session ends, the phone's too.
    phone = browser.new_context(base_url=web, viewport=PHONE).new_page()
    phone.goto("/")
    clock.advance(seconds=31)  # the next code of her authenticator app
    log_in(phone, me, clock())
    expect(phone.get_by_role("heading", name="Today", level=1)).to_be_visible()
    laptop.get_by_role("link", name=me.account).click()
    laptop.get_by_role("button", name="Revoke all my sessions").click()
    expect(laptop).to_have_url(f"{web}/login?ended=true")
    # The services hear of the revocation on account-events, within moments.
    until_shown(phone, lambda: phone.url.startswith(f"{web}/login"))
    expect(phone.get_by_role("heading", name="Log in", level=1)).to_be_visible()
    shots(phone, "03-phone-after-revocation")


def test_with_the_keyboard_alone_on_a_phone_sized_screen(browser, live, people, clock, shots):
    web = live.url("web")
    me = people["caseworker-almaty"]
    page = browser.new_context(base_url=web, viewport=PHONE).new_page()
    page.goto("/")

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")  # past the menu, straight to the form
    for _ in range(5):
        if page.evaluate("document.activeElement.id") == "account":
            break
        page.keyboard.press("Tab")
    expect(page.get_by_label("Account")).to_be_focused()
    page.keyboard.type(me.account)
    page.keyboard.press("Tab")
    page.keyboard.type(me.password)
    page.keyboard.press("Tab")
    page.keyboard.type(me.code(clock()))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()

    case_id = open_case(page, SUBJECT, LATIN)
    for path, name in (("/", "today"), ("/cases", "cases"), (f"/cases/{case_id}", "case"),
                       (f"/cases/{case_id}/record/inquiry", "inquiry-form"),
                       (f"/cases/{case_id}/audit", "audit"), ("/recipients", "recipients")):
        page.goto(path)
        assert page.evaluate(OVERFLOW) <= 0, f"{path} scrolls sideways on a phone"
        assert unlabelled_inputs(page) == [], path
        shots(page, f"phone-{name}")

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()
    page.goto(f"/cases/{case_id}")
    expect(page).to_have_url(f"{web}/login?next=%2Fcases%2F{case_id}")


def test_in_russian_from_the_browser_s_language_and_back_to_english_from_the_menu(
        browser, live, people, clock, shots):
    ru = load_languages(TRANSLATIONS)["ru"].gettext
    me = people["caseworker-almaty"]
    page = browser.new_context(base_url=live.url("web"), locale="ru-RU").new_page()
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("heading", name=ru("Log in"), level=1)).to_be_visible()
    page.get_by_label(ru("Account")).fill(me.account)
    page.get_by_label(ru("Password")).fill(me.password)
    page.get_by_label(ru("Code from your authenticator app")).fill(me.code(clock()))
    page.get_by_role("button", name=ru("Log in")).click()
    expect(page.get_by_role("heading", name=ru("Today"), level=1)).to_be_visible()

    page.goto("/cases/new")
    page.get_by_role("button", name=ru("Record")).click()  # nothing filled in
    expect(page.get_by_role("heading", name=ru("New case from a report"))).to_be_visible()
    expect(page.locator("#form-errors")).to_have_text(
        ru("Nothing was recorded: check the fields marked below."))
    assert unlabelled_inputs(page) == []
    shots(page, "ru-new-case-errors")

    page.get_by_label(ru("Language")).select_option("en")
    page.get_by_role("button", name=ru("Change")).click()
    expect(page.get_by_role("heading", name="New case from a report")).to_be_visible()
    page.goto("/")
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
