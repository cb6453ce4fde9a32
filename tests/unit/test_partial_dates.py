"""Partial dates: families remember "2017" or "May 2017"; the system must keep that honest."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from contracts.partial_dates import (
    PartialDate,
    earliest_instant,
    latest_instant,
    precision,
    sort_key,
)

partial_date = TypeAdapter(PartialDate)


@pytest.mark.parametrize("value", ["2017", "2017-05", "2017-05-14", "2024-02-29"])
def test_partial_dates_are_kept_as_given(value):
    assert partial_date.validate_python(value) == value


def test_datetimes_are_normalised_to_utc():
    assert partial_date.validate_python("2017-05-14T09:30:00+06:00") == "2017-05-14T03:30:00Z"


@pytest.mark.parametrize(
    "value", ["2017-13", "2023-02-29", "17", "May 2017", "2017-05-14T09:30:00", "1850", ""]
)
def test_impossible_or_ambiguous_dates_are_rejected(value):
    with pytest.raises(ValidationError):
        partial_date.validate_python(value)


def test_a_partial_date_spans_its_whole_period():
    assert earliest_instant("2017-02") == datetime(2017, 2, 1, tzinfo=UTC)
    assert latest_instant("2017-02") == datetime(2017, 2, 28, 23, 59, 59, 999999, tzinfo=UTC)
    assert latest_instant("2016") == datetime(2016, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert precision("2017") == "year" and precision("2017-05-14T03:30:00Z") == "instant"


def test_vaguer_dates_sort_before_precise_ones_that_start_at_the_same_moment():
    values = ["2017-01-01T00:00:00Z", "2017-01-01", "2017-01", "2017", "2016-12-31"]
    assert sorted(values, key=sort_key) == ["2016-12-31", "2017", "2017-01", "2017-01-01",
                                            "2017-01-01T00:00:00Z"]


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)),
       st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)))
def test_sort_key_agrees_with_chronology_at_every_precision(a, b):
    for fmt in ("%Y", "%Y-%m", "%Y-%m-%d"):
        first, second = a.strftime(fmt), b.strftime(fmt)
        if earliest_instant(first) < earliest_instant(second):
            assert sort_key(first) < sort_key(second)
