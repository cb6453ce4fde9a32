"""The access events' contract: what a read leaves on the log, and who may list them."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from pydantic import ValidationError

from contracts.access import Principal, Role, may_read_access_log
from contracts.access_events import (
    CaseAccessed,
    CaseAccessedData,
    CaseRead,
    CasesListed,
    CasesListedData,
    Client,
    Reader,
    decode_access_event,
    encode_access_event,
    message_key,
)

READ_AT = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def envelope(**overrides) -> dict:
    return dict(
        event_id=uuid4(), occurred_at=READ_AT, recorded_by="casefile",
        reader=Reader(account="caseworker-7", role=Role.CASEWORKER, team="almaty",
                      session_id="s-1"),
        client=Client(address="192.0.2.10"), correlation_id=uuid4()) | overrides


def test_a_case_access_round_trips_through_its_bytes_and_is_keyed_by_its_case():
    case_id = uuid4()
    read = CaseAccessed(**envelope(), case_id=case_id,
                        data=CaseAccessedData(what=CaseRead.CASE, as_of="2020-03-01"))

    assert decode_access_event(encode_access_event(read)) == read
    assert message_key(read) == str(case_id).encode()


def test_a_case_list_keeps_its_filters_and_the_cases_it_showed_and_is_keyed_by_its_reader():
    shown = [uuid4(), uuid4()]
    listed = CasesListed(**envelope(), data=CasesListedData(
        filters={"status": ["open"], "unassigned": True, "limit": 50, "sort": "-opened_at"},
        case_ids=shown, total=7))

    again = decode_access_event(encode_access_event(listed))
    assert again == listed and again.data.filters["unassigned"] is True
    assert message_key(listed) == b"caseworker-7"


def test_an_access_event_has_no_room_for_case_content():
    with pytest.raises(ValidationError, match="extra_forbidden"):
        decode_access_event(encode_access_event(CaseAccessed(
            **envelope(), case_id=uuid4(), data=CaseAccessedData(what=CaseRead.TIMELINE)),
        ).replace(b'"what":"timeline"', b'"what":"timeline","subject_name":"Fictional"'))


def test_only_auditors_may_read_who_read_which_case():
    def who(role: Role) -> Principal:
        return Principal(account=f"{role}-1", role=role, team="almaty")

    assert [r for r in Role if may_read_access_log(who(r))] == [Role.AUDITOR]
