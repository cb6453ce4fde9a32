"""How a submitted form becomes intake's request body, and intake's 422 a message beside the
field it names."""

from __future__ import annotations

from services.web.forms import FORMS, REPORT, errors_by_field, request_body


def test_a_report_becomes_nested_json_with_lists_and_consent():
    body = request_body(REPORT, {
        "subject.name": "  Гүлнар (fictional) ", "summary": "Fictional.",
        "subject.other_names.0.value": "古丽娜尔", "subject.other_names.0.kind": "chinese",
        "subject.other_names.1.value": "", "subject.other_names.1.kind": "pinyin",
        "subject.citizenships": "CN, KZ ,", "reporter.name": "Сейіт", "reporter.relationship":
        "father", "consent.share_with_un_bodies": "on", "reported_at": ""})
    assert body == {
        "subject": {"name": "Гүлнар (fictional)",
                    "other_names": [{"value": "古丽娜尔", "kind": "chinese"}],
                    "citizenships": ["CN", "KZ"]},
        "summary": "Fictional.", "reporter": {"name": "Сейіт", "relationship": "father"},
        "consent": {"share_with_un_bodies": True, "share_with_media": False,
                    "share_with_partner_ngos": False}}


def test_a_row_with_only_its_script_chosen_is_no_name_but_a_name_without_script_is_sent():
    body = request_body(REPORT, {"subject.other_names.0.kind": "chinese",
                                 "subject.other_names.1.value": "Gulnar"})
    assert body["subject"]["other_names"] == [{"value": "Gulnar"}]  # intake names what lacks


def test_empty_fields_are_left_out_so_intake_applies_its_defaults():
    assert request_body(FORMS["pause"], {"paused_on": " ", "reason": ""}) == {}
    assert request_body(FORMS["response"], {"received_at": "2025-04", "summary": "Fictional.",
                                            "classification": ""}) == {
        "received_at": "2025-04", "summary": "Fictional."}


def test_numbers_and_browser_datetimes_are_typed_and_anything_else_left_for_intake_to_name():
    evidence = request_body(FORMS["evidence"], {"size_bytes": "482113"})
    assert evidence["size_bytes"] == 482113
    assert request_body(FORMS["evidence"], {"size_bytes": "big"})["size_bytes"] == "big"
    assert request_body(FORMS["inquiry"], {"due_at": "2025-04-01T09:30"})["due_at"] == (
        "2025-04-01T09:30:00Z")


def test_an_error_goes_beside_the_field_it_names_or_the_first_field_of_the_part_it_names():
    beside, general = errors_by_field(REPORT, [
        {"loc": ["body", "reporter"], "msg": "Field required", "type": "missing"},
        {"loc": ["body", "subject", "other_names", 0, "kind"], "msg": "Field required",
         "type": "missing"},
        {"loc": ["body", "subject", "citizenships", 1], "msg": "not a country code"},
        {"loc": ["header", "Idempotency-Key"], "msg": "already used"},
    ])
    assert beside == {"reporter.name": "Required: fill this in.",
                      "subject.other_names.0.kind": "Required: fill this in.",
                      "subject.citizenships": "not a country code"}
    assert general == ["Idempotency-Key: already used"]


def test_a_rule_or_a_plain_message_is_said_above_the_form():
    assert errors_by_field(FORMS["note"], "the store is away") == ({}, ["the store is away"])


def test_every_form_targets_an_intake_path_of_its_scope():
    for form in FORMS.values():
        path = form.intake_path("CASE", "INQUIRY")
        assert path.startswith("/cases")
        assert ("INQUIRY" in path) == (form.scope == "inquiry")
        assert ("CASE" in path) == (form.scope != "new")
