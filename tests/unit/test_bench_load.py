"""The benchmark's load generator: what it sends is what intake accepts, and it reads replies right.

No timing is asserted here: `make bench` prints its figures.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from bench.http11 import ProtocolError, _parse_head
from bench.load import Mix, _percentile
from services.intake.commands import RecordContactLost, ReportCase, SendInquiry

COMMAND_OF = {"report": ReportCase, "contact-lost": RecordContactLost, "inquiry": SendInquiry}


def test_every_body_the_mix_sends_is_a_valid_intake_command():
    mix = Mix(["0b7c6f52-3f0e-4a8e-9d55-2f4d3c1b9a10"], random.Random(1))
    for _ in range(300):
        kind, path, body = mix.next()
        COMMAND_OF[kind].model_validate_json(body)
        assert path.startswith("/cases")


def test_the_mix_opens_about_one_case_in_ten_and_splits_the_rest_evenly():
    mix = Mix(["0b7c6f52-3f0e-4a8e-9d55-2f4d3c1b9a10"], random.Random(2))
    kinds = Counter(mix.next()[0] for _ in range(10_000))
    assert 800 < kinds["report"] < 1200
    assert abs(kinds["contact-lost"] - kinds["inquiry"]) < 600


def test_without_open_cases_the_mix_opens_one():
    assert Mix([], random.Random(3)).next()[:2] == ("report", "/cases")


def test_a_response_head_gives_status_length_and_whether_the_server_closes():
    head = b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\nContent-Length: 42\r\n\r\n"
    assert _parse_head(head) == (201, 42, False)
    closing = b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
    assert _parse_head(closing) == (503, 0, True)


@pytest.mark.parametrize("head", [
    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
    b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n",
    b"HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n",
])
def test_replies_the_client_cannot_read_are_refused_loudly(head):
    with pytest.raises(ProtocolError):
        _parse_head(head)


def test_percentiles_are_nearest_rank():
    ordered = [float(n) for n in range(1, 101)]
    assert _percentile(ordered, 0.50) == 50.0
    assert _percentile(ordered, 0.99) == 99.0
    assert _percentile([7.0], 0.99) == 7.0
    assert _percentile([], 0.5) == 0.0
