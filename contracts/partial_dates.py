"""Dates as families remember them: a year, a month, a day, or an exact moment.

"We lost contact in 2017" is as common in these cases as a precise timestamp, so every
`occurred_at` is a `PartialDate`: "2017", "2017-05", "2017-05-14", or an ISO 8601 datetime
with a UTC offset. Partial dates stay partial; nothing invents a day the family never gave.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator, Field

_PARTIAL = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?$")

YEAR, MONTH, DAY, INSTANT = "year", "month", "day", "instant"


@lru_cache(maxsize=65_536)
def normalize_partial_date(value: str) -> str:
    """Validate a partial date or datetime; datetimes are normalised to UTC.

    Cached: the same few dates recur across a log, and every event read validates its own.
    """
    value = value.strip()
    match = _PARTIAL.match(value)
    if match:
        year = int(match["year"])
        month = int(match["month"]) if match["month"] else 1
        day = int(match["day"]) if match["day"] else 1
        if year < 1900:
            raise ValueError("year must be 1900 or later")
        try:
            date(year, month, day)
        except ValueError as exc:
            raise ValueError(f"not a calendar date: {value!r} ({exc})") from None
        return value
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"expected YYYY, YYYY-MM, YYYY-MM-DD or an ISO 8601 datetime with offset, got {value!r}"
        ) from None
    if moment.tzinfo is None:
        raise ValueError(f"datetime {value!r} needs a UTC offset, e.g. 'Z' or '+06:00'")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


PartialDate = Annotated[
    str,
    AfterValidator(normalize_partial_date),
    Field(
        description=(
            "A date as precise as it is known: 'YYYY', 'YYYY-MM', 'YYYY-MM-DD', "
            "or an ISO 8601 datetime with a UTC offset."
        ),
        examples=["2017", "2017-05", "2017-05-14", "2017-05-14T09:30:00Z"],
        json_schema_extra={
            "pattern": r"^\d{4}(-\d{2}(-\d{2}(T.+)?)?)?$",
        },
    ),
]


def precision(value: str) -> str:
    """How much of the date is known: year, month, day or instant."""
    if "T" in value:
        return INSTANT
    return (YEAR, MONTH, DAY)[value.count("-")]


def earliest_instant(value: str) -> datetime:
    """The first moment the partial date can refer to (UTC)."""
    if "T" in value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    parts = [int(p) for p in value.split("-")] + [1, 1]
    return datetime.combine(date(parts[0], parts[1], parts[2]), time(), tzinfo=UTC)


def latest_instant(value: str) -> datetime:
    """The last moment the partial date can refer to (UTC), to the microsecond."""
    kind = precision(value)
    if kind == INSTANT:
        return earliest_instant(value)
    start = earliest_instant(value)
    if kind == YEAR:
        end = start.replace(year=start.year + 1)
    elif kind == MONTH:
        end = start + timedelta(days=calendar.monthrange(start.year, start.month)[1])
    else:
        end = start + timedelta(days=1)
    return end - timedelta(microseconds=1)


_PRECISION_RANK = {YEAR: "0", MONTH: "1", DAY: "2", INSTANT: "3"}


def sort_key(value: str) -> str:
    """A string that orders partial dates chronologically.

    A partial date sorts at its earliest moment; on a tie the vaguer one comes first
    ("2017" before "2017-01-01" before "2017-01-01T00:00:00Z").
    """
    start = earliest_instant(value).astimezone(UTC)
    return f"{start:%Y-%m-%dT%H:%M:%S.%f}|{_PRECISION_RANK[precision(value)]}"
