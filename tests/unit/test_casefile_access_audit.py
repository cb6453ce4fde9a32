"""The audit of access's pure parts: where a read came from, what a list read recorded, and
the rows an access event folds into."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from ipaddress import ip_network
from uuid import UUID, uuid4

import pytest

from contracts.access import Principal, Role
from contracts.access_events import CaseRead, Client
from services.casefile.access_audit.client_address import client_address
from services.casefile.access_audit.events import (
    ReadContext,
    case_accessed,
    cases_listed,
    correlation_id_of,
    list_filters,
)
from services.casefile.access_audit.fold import CASE_LIST, decode, fold
from services.casefile.queries import CaseFilter

PROXIES = [ip_network("10.0.0.0/24"), ip_network("fd00::/8")]
READER = Principal(account="caseworker-7", role=Role.CASEWORKER, team="almaty",
                   session_id="s-1")
CONTEXT = ReadContext(principal=READER, client=Client(address="192.0.2.10"),
                      correlation_id=uuid4(), read_at=datetime(2025, 3, 1, 9, 0, tzinfo=UTC))


@pytest.mark.parametrize(("peer", "forwarded", "expected"), [
    # a client on its own: X-Forwarded-For is whatever it wants to write, and is ignored
    ("192.0.2.10", ["203.0.113.5"], Client(address="192.0.2.10")),
    ("192.0.2.10", [], Client(address="192.0.2.10")),
    # through a trusted proxy: the hop before it
    ("10.0.0.2", ["203.0.113.5"], Client(address="203.0.113.5", proxy="10.0.0.2")),
    # a chain: the first hop from the right that is not a trusted proxy; what the client
    # itself put further left is not believed
    ("10.0.0.2", ["198.51.100.1, 203.0.113.5", "10.0.0.7"],
     Client(address="203.0.113.5", proxy="10.0.0.2")),
    # a trusted proxy with nothing forwarded: the proxy is the client
    ("10.0.0.2", [], Client(address="10.0.0.2")),
    # a forwarded hop that is not an address: unknown, not its text
    ("10.0.0.2", ["Fictional Name"], Client(address=None, proxy="10.0.0.2")),
    ("fd00::1", ["2001:db8::0001"], Client(address="2001:db8::1", proxy="fd00::1")),
    (None, ["203.0.113.5"], Client(address=None)),
])
def test_the_client_is_the_peer_unless_a_trusted_proxy_forwarded_it(peer, forwarded, expected):
    assert client_address(peer, forwarded, PROXIES) == expected


def test_without_trusted_proxies_forwarding_is_never_believed():
    assert client_address("127.0.0.1", ["203.0.113.5"], []) == Client(address="127.0.0.1")


def test_a_correlation_id_is_taken_only_if_it_is_a_uuid():
    given = uuid4()
    assert correlation_id_of(str(given)) == given
    assert isinstance(correlation_id_of("Fictional Name"), UUID)
    assert correlation_id_of(None) != correlation_id_of(None)


def test_a_list_records_the_filters_chosen_but_not_who_may_see_what():
    chosen = CaseFilter(statuses=("open", "detained"), unassigned=True, opened_from="2024",
                        min_days_since_last_contact=30, visible_to=READER)

    assert list_filters(chosen, sort="-opened_at", limit=50, offset=0) == {
        "statuses": ["open", "detained"], "unassigned": True, "opened_from": "2024",
        "min_days_since_last_contact": 30, "sort": "-opened_at", "limit": 50, "offset": 0}


def test_an_access_event_says_who_when_from_where_and_what_and_nothing_more():
    case_id = uuid4()
    event = case_accessed(CONTEXT, case_id, CaseRead.CASE, as_of="2020-03-01")

    assert set(event.model_dump()) == {
        "event_id", "type", "schema_version", "occurred_at", "recorded_by", "reader", "client",
        "correlation_id", "case_id", "data"}
    assert event.model_dump(mode="json", include={"reader", "client", "data"}) == {
        "reader": {"account": "caseworker-7", "role": "caseworker", "team": "almaty",
                   "session_id": "s-1", "issuer": "local"},
        "client": {"address": "192.0.2.10", "proxy": None},
        "data": {"what": "case", "as_of": "2020-03-01", "event_types": []}}
    assert (event.case_id, event.occurred_at, event.correlation_id) == (
        case_id, CONTEXT.read_at, CONTEXT.correlation_id)


def test_a_case_read_folds_into_one_record_and_the_case_it_showed():
    case_id = uuid4()
    event = case_accessed(CONTEXT, case_id, CaseRead.TIMELINE, as_of="2020-03",
                          event_types=["threat_reported"])

    record, cases = fold(event)
    assert (record.what, record.case_id, record.as_of, record.read_at) == (
        "timeline", case_id, "2020-03", "2025-03-01T09:00:00.000000Z")
    assert (record.account, record.role, record.team, record.session_id) == (
        "caseworker-7", "caseworker", "almaty", "s-1")
    assert (record.client_address, record.event_types) == ("192.0.2.10", '["threat_reported"]')
    assert [(c.case_id, c.event_id) for c in cases] == [(case_id, event.event_id)]


def test_a_list_folds_into_one_record_and_each_case_it_showed_once():
    first, second = uuid4(), uuid4()
    event = cases_listed(CONTEXT, {"statuses": ["open"], "limit": 2}, [first, second, first], 9)

    record, cases = fold(event)
    assert (record.what, record.case_id, record.cases_shown, record.total) == (
        CASE_LIST, None, 3, 9)
    assert json.loads(record.filters) == {"statuses": ["open"], "limit": 2}
    assert [c.case_id for c in cases] == [first, second]


def test_a_message_that_is_not_an_access_event_is_unreadable_without_quoting_it():
    unreadable = decode(b'{"type": "case_accessed", "subject": "Fictional Name"}')
    assert unreadable.reason.startswith("undecodable access event: ")
    assert "Fictional" not in unreadable.reason
