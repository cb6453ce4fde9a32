"""Personal data is encrypted field by field with the case's key; erasure destroys the key.

Pure rules and the cipher, without a database or a broker. Data is fictional.
"""

from __future__ import annotations

import json
import os
from uuid import uuid4

import pytest

from contracts import decode_event, encode_event
from contracts.chain import verify_chain
from contracts.personal_data import (
    ERASED,
    UNREADABLE,
    FieldCipher,
    UndecryptableField,
    encrypt_personal_data,
    is_encrypted,
    reveal,
    shown_with,
    unencrypted_personal_fields,
)
from contracts.values import Subject
from services.intake import casework_decisions
from services.intake import commands as c
from services.intake.decisions import RuleViolated
from tests.unit.intake_desk import Desk
from tests.unit.test_intake_decisions import record_everything

NAME = "Айгүл Сапарқызы (fictional)"


class EncryptingDesk(Desk):
    """The desk, encrypting personal data with the case's key as intake does."""

    def __init__(self) -> None:
        self.key = os.urandom(32)
        self.ciphers: dict = {}
        super().__init__(encryption=lambda case_id: self.ciphers.setdefault(
            case_id, FieldCipher(case_id, self.key)).encrypt)


def test_every_event_intake_decides_holds_its_personal_data_only_encrypted():
    desk = EncryptingDesk()
    record_everything(desk)
    assert {e.type for e in desk.events} >= {"report_received", "note_added", "threat_reported"}
    for event in desk.events:
        assert unencrypted_personal_fields(event) == [], event.type
        assert NAME not in encode_event(event).decode()
    # what is not personal stays readable: dates, kinds, consent, the team
    report = json.loads(encode_event(desk.events[0]))["data"]
    assert report["reporter"]["relationship"] == "brother" and report["team"] == "almaty"


def test_encrypted_events_keep_their_bytes_and_chain_through_the_log():
    desk = EncryptingDesk()
    record_everything(desk)
    read_back = [decode_event(encode_event(e)) for e in desk.events]
    assert [encode_event(e) for e in read_back] == [encode_event(e) for e in desk.events]
    assert verify_chain(read_back) == desk.state.head_hash


def test_an_authorised_reader_sees_the_plain_text_of_every_field():
    desk = EncryptingDesk()
    cipher = desk.ciphers[desk.state.case_id]
    data = json.loads(encode_event(desk.events[0]))["data"]
    shown = reveal(data, shown_with(cipher))
    assert shown["subject"]["name"] == NAME
    assert shown["subject"]["date_of_birth"] == "1984-03"
    assert shown["summary"].startswith("Fictional: did not return")


def test_without_the_key_fields_read_unreadable_and_once_erased_erased_never_ciphertext():
    desk = EncryptingDesk()
    data = json.loads(encode_event(desk.events[0]))["data"]
    assert reveal(data, shown_with(None))["subject"]["name"] == UNREADABLE
    assert reveal(data, shown_with(None, erased=True))["subject"]["name"] == ERASED
    other_case = FieldCipher(uuid4(), desk.key)  # the same key bytes, another case
    assert reveal(data, shown_with(other_case))["summary"] == UNREADABLE


def test_a_field_moved_to_another_case_or_altered_does_not_decrypt():
    key = os.urandom(32)
    mine, theirs = FieldCipher(uuid4(), key), FieldCipher(uuid4(), key)
    token = mine.encrypt("Fictional Person")
    assert mine.decrypt(token) == "Fictional Person"
    with pytest.raises(UndecryptableField):
        theirs.decrypt(token)
    altered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(UndecryptableField):
        mine.decrypt(altered)


def test_the_same_text_encrypts_differently_each_time():
    cipher = FieldCipher(uuid4(), os.urandom(32))
    assert cipher.encrypt("Fictional Person") != cipher.encrypt("Fictional Person")


def test_a_client_cannot_pass_off_ciphertext_as_a_recorded_value():
    """In a command an 'enc:1:' string is just text, checked as text and then encrypted."""
    fake = "enc:1:" + "A" * 400
    with pytest.raises(ValueError):
        Subject.model_validate({"name": fake})  # too long for a name, as any text would be
    subject = Subject.model_validate({"name": "enc:1:" + "A" * 40})
    encrypted = encrypt_personal_data(subject, FieldCipher(uuid4(), os.urandom(32)).encrypt)
    assert encrypted.name != subject.name and is_encrypted(encrypted.name)


def test_an_erased_subject_takes_no_more_events_and_is_erased_once():
    desk = Desk()
    desk.close()
    erased = desk.do(casework_decisions.erase_subject, c.EraseSubject(reason="safety"))
    assert erased.type == "subject_erased" and desk.state.erased
    assert json.loads(encode_event(erased))["data"] == {"reason": "safety"}
    with pytest.raises(RuleViolated) as refused:
        desk.do(casework_decisions.reopen_case, c.ReopenCase(reason="Fictional."))
    assert refused.value.rule == "subject_erased"
    with pytest.raises(RuleViolated) as again:
        desk.do(casework_decisions.erase_subject, c.EraseSubject(reason="safety"))
    assert again.value.rule == "subject_already_erased"
