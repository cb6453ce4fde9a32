"""The event catalogue: clean text in, old events read back exactly as they were recorded."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from pydantic import ValidationError

from contracts import EVENT_TYPES, RECORDED_EVENT_TYPES, decode_event, encode_event
from contracts.chain import verify_chain
from contracts.events import EvidenceAttachedData, InquirySentData, ReportReceivedData
from contracts.values import Consent, ContactDetails, IdentityDocument, Reporter, Subject
from services.intake.commands import AttachEvidence, ReportCase

LEGACY_CHAIN = Path(__file__).parent / "fixtures" / "legacy_chain_v1.jsonl"
REPORTER = {"name": "Fictional Sister", "relationship": "sister"}


def errors_of(model, data) -> list[tuple[tuple, str]]:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(data)
    return [(e["loc"], e["type"]) for e in refused.value.errors()]


# --- old events ---------------------------------------------------------------------------------


def test_events_recorded_before_the_catalogue_grew_still_verify_and_keep_their_bytes():
    """Recorded with the first five event types (fictional data, a decomposed name and a tab
    included): new optional fields must not change their bytes, nor break their hash chain."""
    lines = LEGACY_CHAIN.read_bytes().splitlines()
    events = [decode_event(line) for line in lines]
    verify_chain(events)
    assert [encode_event(e) for e in events] == lines
    name = events[0].data.subject.name
    assert name != unicodedata.normalize("NFC", name)  # taken as recorded, not re-normalised


def test_new_optional_fields_are_left_out_of_the_bytes_until_used():
    report = ReportReceivedData(
        subject=Subject(name="Fictional"), reporter=Reporter(**REPORTER), summary="Fictional."
    )
    assert json.loads(report.model_dump_json()) == {
        "subject": {"name": "Fictional"},
        "reporter": REPORTER,
        "summary": "Fictional.",
    }
    agreed = report.model_copy(update={"consent": Consent(share_with_un_bodies=True)})
    assert json.loads(agreed.model_dump_json())["consent"]["share_with_un_bodies"] is True


def test_every_event_type_has_one_current_version_and_every_recorded_version_is_known():
    def version(model) -> tuple[str, int]:
        return model.model_fields["type"].default, model.model_fields["schema_version"].default

    names = [version(model)[0] for model in EVENT_TYPES]
    assert len(names) == len(set(names)) == 31
    recorded = [version(model) for model in RECORDED_EVENT_TYPES]
    assert len(recorded) == len(set(recorded))
    assert {v for v in recorded if v[1] > 1} == {("contact_lost", 2)}
    assert ("contact_lost", 1) in recorded
    # retired: no longer written, still read from older logs
    assert ("inquiry_overdue", 1) in recorded and "inquiry_overdue" not in names
    docstrings = [model.__doc__ or "" for model in RECORDED_EVENT_TYPES]
    assert all(doc and "\n" not in doc.strip() for doc in docstrings)


# --- text hygiene -------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["A\x00B", "A\x07B", "A\nB", "A\x1bB", "A\x7fB", "A\ud800B"])
def test_a_name_with_a_control_character_is_refused_naming_the_field(bad):
    assert errors_of(Subject, {"name": bad}) == [(("name",), "control_character")]


def test_free_text_keeps_line_breaks_and_tabs_but_refuses_other_controls():
    text = "Fictional first line\r\n\tsecond line"
    report = ReportCase(subject={"name": "F"}, reporter=REPORTER, summary=text)
    assert report.summary == text
    assert errors_of(
        ReportCase, {"subject": {"name": "F"}, "reporter": REPORTER, "summary": "a\x00b"}
    ) == [(("summary",), "control_character")]


def test_text_is_normalised_to_nfc_and_trimmed():
    decomposed = unicodedata.normalize("NFD", "  Әйгерім Ұлықызы  ")
    assert Subject(name=decomposed).name == "Әйгерім Ұлықызы"


@pytest.mark.parametrize(
    "name",
    [
        "Айгүл Сапарқызы",
        "Aigul Saparkyzy",
        "艾古丽·萨帕尔",
        "ئايگۈل ساپار",
        "Ayşe Öztürk-Ñúñez",
    ],
)
def test_names_in_any_script_are_kept_as_given(name):
    assert Subject(name=name).name.encode() == name.encode()


def test_lengths_and_list_sizes_are_bounded():
    assert errors_of(Subject, {"name": "x" * 301}) == [(("name",), "string_too_long")]
    many = [{"value": f"Alias {i}", "kind": "alias"} for i in range(21)]
    assert errors_of(Subject, {"name": "x", "other_names": many}) == [
        (("other_names",), "too_long")
    ]
    assert errors_of(IdentityDocument, {"kind": "passport", "number": "9" * 65}) == [
        (("number",), "string_too_long")
    ]
    assert errors_of(ContactDetails, {"phone": "call me maybe"})[0][0] == ("phone",)
    assert errors_of(ContactDetails, {"email": "not-an-address"})[0][0] == ("email",)


def test_a_partial_birth_date_is_validated():
    assert Subject(name="x", date_of_birth="1984-03").date_of_birth == "1984-03"
    assert errors_of(Subject, {"name": "x", "date_of_birth": "1984-13"})[0][0] == ("date_of_birth",)


# --- evidence -----------------------------------------------------------------------------------

EVIDENCE = {
    "file_name": "scan.pdf",
    "media_type": "application/pdf",
    "size_bytes": 1,
    "sha256": "ab" * 32,
}


@pytest.mark.parametrize("digest", ["AB" * 32, "ab" * 31, "g" * 64, "ab" * 33])
def test_evidence_needs_a_sha256_of_64_lowercase_hex_characters(digest):
    assert errors_of(AttachEvidence, EVIDENCE | {"sha256": digest}) == [
        (("sha256",), "string_pattern_mismatch")
    ]


def test_evidence_carries_metadata_only():
    assert set(EvidenceAttachedData.model_fields) == {
        "file_name",
        "media_type",
        "size_bytes",
        "sha256",
        "description",
    }
    assert errors_of(AttachEvidence, EVIDENCE | {"content": "JVBERi0xLjQK"}) == [
        (("content",), "extra_forbidden")
    ]
    assert errors_of(AttachEvidence, EVIDENCE | {"size_bytes": -1})[0][0] == ("size_bytes",)
    assert errors_of(AttachEvidence, EVIDENCE | {"media_type": "pdf"})[0][0] == ("media_type",)


def test_an_inquiry_reference_is_optional_and_bounded():
    assert InquirySentData.model_fields["reference"].default is None
    assert "reference" in InquirySentData.omitted_at_default
