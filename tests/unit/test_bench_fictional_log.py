"""The replay benchmark's log is a log the services could have written: valid, chained, varied."""

from __future__ import annotations

from collections import Counter, defaultdict

from bench.fictional_alerts import _book
from bench.fictional_log import ALERT, CASE, generate
from contracts import EVENT_TYPES, decode_event
from contracts.alert_events import ALERT_EVENT_TYPES, AlertKind
from contracts.chain import verify_chain
from contracts.partial_dates import earliest_instant
from contracts.personal_data import unencrypted_personal_fields
from services.notify import rules
from services.notify.deadlines import InquiryFacts, compute_deadline

LOG = list(generate(60, 1200, seed=11))


def test_every_message_is_a_valid_event_keyed_by_its_case():
    for message in LOG:
        event = decode_event(message.value)
        assert message.key == str(event.case_id).encode()
        notifys = {model.model_fields["type"].default for model in ALERT_EVENT_TYPES}
        assert (message.stream == ALERT) == (event.type in notifys) == (event.actor == "notify")


def test_each_case_has_the_asked_number_of_case_events_and_every_stream_verifies():
    streams = defaultdict(list)
    for message in LOG:
        event = decode_event(message.value)
        streams[(event.case_id, message.stream)].append(event)
    cases = {case_id for case_id, _ in streams}
    assert len(cases) == 60
    assert sum(len(events) for (_, stream), events in streams.items() if stream == CASE) == 1200
    for events in streams.values():
        verify_chain(events)


def test_the_log_holds_every_event_type_and_both_versions_of_contact_lost():
    types = Counter(message.type for message in LOG)
    assert set(types) == {model.model_fields["type"].default for model in EVENT_TYPES}
    versions = Counter(decode_event(m.value).schema_version for m in LOG if m.type == "contact_lost")
    assert set(versions) == {1, 2}


def test_nothing_is_recorded_on_a_closed_case_but_its_reopening_or_erasure():
    last_type: dict = {}
    for message in LOG:
        if message.stream != CASE:
            continue
        event = decode_event(message.value)
        if last_type.get(event.case_id) == "case_closed":
            assert event.type in ("case_reopened", "subject_erased")
        assert last_type.get(event.case_id) != "subject_erased"
        last_type[event.case_id] = event.type


def test_every_personal_field_is_encrypted_as_intake_encrypts_it():
    for message in LOG:
        if message.stream == CASE:
            assert unencrypted_personal_fields(decode_event(message.value)) == []
    assert b"Fictional Person" not in b"".join(m.value for m in LOG)


def test_the_same_seed_gives_the_same_log():
    assert [m.value for m in generate(5, 60, seed=3)] == [m.value for m in generate(5, 60, seed=3)]
    assert [m.value for m in generate(5, 60, seed=3)] != [m.value for m in generate(5, 60, seed=4)]


def test_deadlines_and_overdue_alerts_are_the_ones_notify_would_record_and_answers_follow():
    events = [decode_event(m.value) for m in LOG]
    sent = {e.data.inquiry_id: e for e in events if e.type == "inquiry_sent"}
    first_deadline = {e.data.inquiry_id: e.data.deadline for e in events
                      if e.type == "deadline_set"}
    assert first_deadline.keys() == sent.keys()
    for inquiry_id, inquiry in sent.items():
        data = inquiry.data
        facts = InquiryFacts(data.sent_at, data.recipient.kind.value, data.recipient.country,
                             data.channel.value, explicit_due_at=data.due_at)
        policy = _book().select(facts.recipient_kind, facts.recipient_country, facts.channel)
        assert first_deadline[inquiry_id] == compute_deadline(facts, policy)
    settled = {e.data.inquiry_id: e for e in events
               if e.type in ("official_response_received", "inquiry_withdrawn")}
    overdue = [e for e in events if e.type == "alert_raised" and e.data.kind is AlertKind.OVERDUE]
    assert len(overdue) > 10
    for alert in overdue:
        due = first_deadline[alert.data.inquiry_id].due_at
        assert alert.event_id == alert.data.alert_id == rules.inquiry_alert_id(
            AlertKind.OVERDUE, alert.data.inquiry_id, due)
        assert alert.data.due_at == due <= alert.recorded_at
        if (answer := settled.get(alert.data.inquiry_id)) is not None:
            assert answer.recorded_at > alert.recorded_at


def test_recorded_at_only_grows_in_each_stream():
    last: dict = {}
    for message in LOG:
        event = decode_event(message.value)
        stream = (event.case_id, message.stream)
        assert stream not in last or event.recorded_at > last[stream]
        last[stream] = event.recorded_at


def test_contact_is_lost_and_restored_in_turn_with_dates_of_every_precision():
    in_contact: dict = {}
    precisions = set()
    for message in LOG:
        event = decode_event(message.value)
        if event.type in ("contact_lost", "contact_restored"):
            assert in_contact.get(event.case_id, True) == (event.type == "contact_lost")
            in_contact[event.case_id] = event.type == "contact_restored"
        precisions.add(len(event.occurred_at))
        earliest_instant(event.occurred_at)  # a date the contracts can read
    assert Counter(m.type for m in LOG)["contact_lost"] > 60  # lost again after a return
    assert {4, 7, 10} <= precisions and max(precisions) > 10
