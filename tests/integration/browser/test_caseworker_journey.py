"""A caseworker's week in the web app, in a real browser: a report opens a case, contact lost
and an inquiry are recorded, the inquiry goes unanswered past its due date and shows on Today,
the answer comes and the alert is withdrawn; the audit shows the case as it was; another team
cannot open it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.integration.browser.pages import (
    case_id_of,
    fill,
    log_in,
    record,
    timeline_types,
    unlabelled_inputs,
    until_shown,
)

pytestmark = pytest.mark.browser

SUBJECT = "Гүлнар Сейітқызы (fictional)"
CHINESE = "古丽娜尔（虚构）"
LATIN = "Gulnar Seyitkyzy (fictional)"


def test_from_report_to_answered_inquiry(browser, live, people, clock, shots):
    web = live.url("web")
    me = people["caseworker-almaty"]
    context = browser.new_context(base_url=web, locale="en-GB")
    page = context.new_page()

    page.goto("/")
    expect(page).to_have_url(f"{web}/login?next=%2F")
    assert unlabelled_inputs(page) == []
    shots(page, "01-login")
    log_in(page, me, clock())
    expect(page.get_by_role("heading", name="Today", level=1)).to_be_visible()
    expect(page.get_by_text("Nothing needs doing now.")).to_be_visible()

    # A relative's report opens the case; a missing required field is named beside it.
    page.get_by_role("link", name="New case").click()
    assert unlabelled_inputs(page) == []
    fill(page, {"Name, as the family gives it": SUBJECT,
                "What happened": "Fictional: went to visit relatives and did not come back."})
    page.get_by_role("button", name="Record").click()
    expect(page.locator("#f-reporter-name-error")).to_be_visible()
    expect(page.get_by_label("Name, as the family gives it")).to_have_value(SUBJECT)
    shots(page, "02-report-with-an-error")
    page.locator("#f-subject-other_names-0-value").fill(CHINESE)
    page.locator("#f-subject-other_names-0-kind").select_option("chinese")
    page.locator("#f-subject-other_names-1-value").fill(LATIN)
    page.locator("#f-subject-other_names-1-kind").select_option("latin_transliteration")
    fill(page, {"Reporter's name": "Сейіт Ахметұлы (fictional)",
                "Relationship to the subject": "father"},
         checks=("The family agrees to share with UN bodies",))
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("heading", name=SUBJECT, level=1)).to_be_visible()
    case_id = case_id_of(page)
    expect(page.locator("ul.names")).to_contain_text(CHINESE)
    expect(page.locator("ul.names")).to_contain_text(LATIN)
    expect(page.locator("ul.consent")).to_contain_text("share with un bodies: yes")
    shots(page, "03-new-case")

    record(page, "Assign", {"Caseworker's account": me.account})
    expect(page.locator("dl.facts")).to_contain_text(me.account)

    clock.advance(minutes=5)
    record(page, "Contact lost", {"Last heard from": "2017-05",
                                  "Circumstances": "Fictional: her phone was switched off."},
           selects={"How": "phone"})
    expect(page.locator('li[data-type="contact_lost"] .occurred')).to_contain_text(
        "2017-05 (month)")

    # A form submitted twice (a double click, a reload after a lost answer) records once.
    page.get_by_role("link", name="Note", exact=True).click()
    page.get_by_label("Note", exact=True).fill("Fictional: called the family, no news.")
    sent = {name: page.locator(f'form.record [name="{name}"]').input_value()
            for name in ("csrf", "idempotency_key", "text")}
    action = page.locator("form.record").get_attribute("action")
    page.get_by_role("button", name="Record").click()
    again = context.request.post(f"{web}{action}", form=sent, max_redirects=0)
    assert again.status == 303 and f"/cases/{case_id}" in again.headers["location"]
    page.reload()
    assert timeline_types(page).count("note_added") == 1

    clock.advance(minutes=5)
    record(page, "Inquiry sent", {"Institution": "Consulate General (fictional)",
                                  "Country": "CN", "Sent on": "2025-03-01"},
           selects={"Kind of institution": "consulate", "Sent by": "letter"})
    inquiry = page.locator("li.inquiry").first
    expect(inquiry).to_contain_text("Consulate General (fictional)")
    until_shown(page, lambda: "business days" in page.locator("li.inquiry").first.inner_text())
    expect(page.locator("li.inquiry .state").first).to_have_text("awaiting")
    shots(page, "04-case-with-inquiry")
    recorded_before_the_deadline = clock()

    # Weeks pass without an answer: the inquiry is overdue, and Today says so first.
    clock.advance(days=45)
    page.goto("/")
    expect(page).to_have_url(f"{web}/login?next=%2F")  # the session ended while she was away
    log_in(page, me, clock())
    until_shown(page, lambda: page.locator("#overdue li.alert").count() > 0)
    overdue = page.locator("#overdue li.alert").first
    expect(overdue).to_contain_text(SUBJECT)
    expect(overdue).to_contain_text("for you")
    sections = page.locator("section.today").evaluate_all("s => s.map(x => x.id)")
    assert sections[0] == "overdue", sections
    assert unlabelled_inputs(page) == []
    shots(page, "05-today-overdue")

    overdue.get_by_role("link", name=SUBJECT).click()
    expect(page.locator("li.inquiry .state").first).to_have_text("overdue")
    page.locator("li.inquiry").first.get_by_role("link", name="Response received").click()
    assert unlabelled_inputs(page) == []
    fill(page, {"Received on": clock().date().isoformat(),
                "What it says": "Fictional: no record of this person."},
         selects={"Kind of answer": "no_record"})
    page.get_by_role("button", name="Record").click()
    expect(page.locator("li.inquiry .state").first).to_have_text("answered")
    until_shown(page, lambda: "alert_withdrawn" in timeline_types(page))
    types = timeline_types(page)
    for entry in ("report_received", "case_assigned", "contact_lost", "note_added",
                  "inquiry_sent", "deadline_set", "alert_raised", "official_response_received",
                  "alert_withdrawn"):
        assert entry in types, (entry, types)
    shots(page, "06-case-answered")

    page.get_by_role("link", name="Today").click()
    until_shown(page, lambda: page.locator("#overdue").count() == 0)

    # Which institutions answer: this consulate did, once, after the deadline.
    page.get_by_role("link", name="Recipients").click()
    consulate = page.locator("tr", has_text="Consulate General (fictional)")
    expect(consulate.locator("td")).to_have_text(["consulate", "CN", "1", "1", "0", "45.0", "0 %"])

    # The audit: the case as it was known before the answer, and its chain intact.
    page.goto(f"/cases/{case_id}/audit")
    expect(page.locator("#chain-result")).to_contain_text("Intact")
    page.get_by_label("As of").fill(
        (recorded_before_the_deadline + timedelta(days=1)).date().isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#as-of-result")).to_be_visible()
    as_of_types = timeline_types(page)
    assert "inquiry_sent" in as_of_types and "official_response_received" not in as_of_types
    shots(page, "07-audit-as-of")

    # Someone of another team cannot open the case, even with its address.
    other = browser.new_context(base_url=web).new_page()
    other.goto("/")
    log_in(other, people["caseworker-bishkek"], clock())
    other.goto(f"/cases/{case_id}")
    expect(other.get_by_role("heading", name="Not found, or not yours to see")).to_be_visible()
    assert SUBJECT not in other.content()
    shots(other, "08-other-team-refused")

    # An auditor sees who read the case.
    auditor = browser.new_context(base_url=web).new_page()
    auditor.goto("/")
    log_in(auditor, people["auditor-one"], clock())
    auditor.goto(f"/cases/{case_id}/audit")
    until_shown(auditor, lambda: me.account in auditor.locator("#access-title + div").inner_text()
                if auditor.locator("#access-title + div").count() else False)
    shots(auditor, "09-audit-accesses")
