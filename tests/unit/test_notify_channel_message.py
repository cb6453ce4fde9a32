"""An alert carries what it takes to open the case in the app, and nothing of the case itself."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime

import pytest

from services.notify.channels.message import (
    AlertMessage,
    delivery_id,
    render_email,
    webhook_body,
    webhook_payload,
)
from tests.unit.alert_messages import ALERT, CASE, fictional_alert

alert = fictional_alert


def test_an_alert_message_has_only_the_fields_needed_to_open_the_case():
    assert [field.name for field in dataclasses.fields(AlertMessage)] == [
        "alert_id", "kind", "case_id", "inquiry_id", "due_at", "raised_at", "reason",
        "recipient", "link",
    ]


def test_the_email_holds_the_alert_facts_and_no_other_line():
    rendered = render_email(alert())

    assert rendered.subject == "[Casetracker] Inquiry overdue: case 0f1e2d3c"
    assert rendered.text == (
        "Inquiry overdue: no answer to the inquiry due 2025-03-14\n"
        "\n"
        "Case: 0f1e2d3c\n"
        "Inquiry: 12345678\n"
        "Due: 2025-03-14 23:59 UTC\n"
        "Raised: 2025-03-15 00:01 UTC\n"
        "\n"
        f"Open the case: https://tracker.example.org/cases/{CASE}\n"
        "\n"
        "The details are in the case tracker only: sign in to see them. "
        "Please do not reply to this message.\n"
        "\n"
        f"Alert {ALERT}\n"
    )
    assert "advocate-7" not in rendered.text + rendered.html  # the To header says who


def test_the_html_part_escapes_what_it_shows():
    rendered = render_email(alert(reason="no answer <b>yet</b> & counting"))

    assert "no answer &lt;b&gt;yet&lt;/b&gt; &amp; counting" in rendered.html
    assert "<b>yet" not in rendered.html


def test_the_webhook_body_has_fixed_fields_in_a_fixed_order_and_the_same_bytes_each_time():
    message = alert()
    body = webhook_body(message)

    assert body == webhook_body(message)
    assert list(json.loads(body)) == [
        "schema_version", "delivery_id", "alert_id", "kind", "case_id", "inquiry_id", "due_at",
        "raised_at", "reason", "recipient", "link",
    ]
    assert json.loads(body) == webhook_payload(message)
    assert json.loads(body)["due_at"] == "2025-03-14T23:59:00Z"
    assert json.loads(body)["delivery_id"] == str(delivery_id(ALERT, "advocate-7"))


def test_a_delivery_id_is_stable_per_alert_and_advocate():
    assert delivery_id(ALERT, "advocate-7") == delivery_id(ALERT, "advocate-7")
    assert delivery_id(ALERT, "advocate-7") != delivery_id(ALERT, "advocate-8")
    assert delivery_id(ALERT, "advocate-7") != delivery_id(CASE, "advocate-7")


@pytest.mark.parametrize("changes", [
    {"kind": "birthday"},
    {"due_at": datetime(2025, 3, 14)},
    {"raised_at": datetime(2025, 3, 14)},
    {"reason": "no answer\nOpen the case: https://evil.example"},
    {"reason": "x" * 301},
    {"recipient": ""},
    {"recipient": "advocate\r\nBcc: someone"},
    {"link": "javascript:alert(1)"},
    {"link": 'https://tracker.example.org/" onclick="x'},
])
def test_a_message_that_could_carry_more_than_its_fields_is_refused(changes):
    with pytest.raises(ValueError):
        alert(**changes)


def test_an_alert_without_an_inquiry_or_a_link_still_renders():
    rendered = render_email(alert(kind="family_silent", inquiry_id=None, link=None))

    assert rendered.subject == "[Casetracker] No word from the family: case 0f1e2d3c"
    assert "Inquiry:" not in rendered.text and "Open the case" not in rendered.text
    assert json.loads(webhook_body(alert(inquiry_id=None)))["inquiry_id"] is None
