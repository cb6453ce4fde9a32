"""Working days of a country: weekends and public holidays from the `holidays` package.

China moves working days onto weekends around its long holidays, Kazakhstan and Switzerland
have their own holidays; the package knows each country's rules, including such swapped days.
A country the package does not know counts Saturdays and Sundays as its only days off, and
says so, so a deadline never pretends to know a calendar it does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache

import holidays

WEEKENDS_ONLY = "weekends only"


@dataclass(frozen=True)
class Calendar:
    country: str | None  # "CN", or "CH-GE" for a subdivision; None: every day counts
    name: str  # for explanations, e.g. "China calendar"

    def is_counted(self, day: date) -> bool:
        return self.country is None or day.toordinal() not in _days_off(self.country, day.year)


def calendar_days() -> Calendar:
    return Calendar(None, "calendar days")


def working_days_of(country: str) -> Calendar:
    return Calendar(country, _calendar_name(country))


@lru_cache(maxsize=1024)
def _days_off(country: str, year: int) -> frozenset[int]:
    """Ordinals of the year's days off: weekend days that are not swapped working days, and
    public holidays. A set per year keeps a deadline's day-by-day walk to set lookups."""
    known = _known_holidays(country, year)
    weekend = getattr(known, "weekend", {5, 6})
    swapped = {d for d in getattr(known, "weekend_workdays", ()) if d.year == year}
    first, last = date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
    off = {
        ordinal for ordinal in range(first, last + 1)
        if date.fromordinal(ordinal).weekday() in weekend
        and date.fromordinal(ordinal) not in swapped
    }
    off.update(d.toordinal() for d in known if d.year == year)
    return frozenset(off)


def is_known(code: str) -> bool:
    """Whether the package has public holidays for the country (or subdivision) code."""
    try:
        _lookup(code, 2000)
    except NotImplementedError:
        return False
    return True


def _known_holidays(code: str, year: int) -> holidays.HolidayBase:
    try:
        return _lookup(code, year)
    except NotImplementedError:
        return holidays.HolidayBase()  # weekends only


def _lookup(code: str, year: int) -> holidays.HolidayBase:
    country, _, subdivision = code.partition("-")
    return holidays.country_holidays(country, subdiv=subdivision or None, years=year)


@cache
def _calendar_name(code: str) -> str:
    country, _, subdivision = code.partition("-")
    names = _country_names()
    if country not in names or not is_known(code):
        return f"{code} ({WEEKENDS_ONLY})"
    if subdivision:
        aliases = getattr(_lookup(code, 2000), "subdivisions_aliases", {})
        local = next((name for name, sub in aliases.items() if sub == subdivision), subdivision)
        return f"{names[country]} ({local}) calendar"
    return f"{names[country]} calendar"


@cache
def _country_names() -> dict[str, str]:
    """ISO code -> English name, from the package's registry ('UnitedStates' -> 'United States')."""
    from holidays.registry import COUNTRIES

    return {
        entry[1]: re.sub(r"(?<=[a-z])(?=[A-Z])", " ", entry[0])
        for entry in COUNTRIES.values()
    }
