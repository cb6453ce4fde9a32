"""Finding a case by its subject's name, in any script: the matching rule. Pure: no keys, no I/O.

A name is searched the way a caseworker types it: a fragment of any of the subject's names
(the family's, another script, a transliteration, an alias) in any case, with or without
accents, with spaces as they come. Both sides are brought to one form: NFKC (full-width and
compatibility forms to plain letters), case folded, Latin/Greek/Cyrillic combining accents
removed ("Aydın", "Aýdyn", "Äydin" lose their marks; so do Cyrillic й and ё, which read as и
and е), the dotless ı read as i, and runs of whitespace as one space. Marks that are letters of
their script (Arabic, Indic, Thai...) are kept: removing them would change the name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from contracts.case_events import ReportReceived

MAX_QUERY_LENGTH = 200

# The blocks of combining marks that are accents on Latin, Greek and Cyrillic letters, not
# letters of a script of their own.
_ACCENTS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_LETTERS_WITHOUT_DECOMPOSITION = str.maketrans({"ı": "i"})  # Turkic dotless i


def searchable(text: str) -> str:
    """The form a name and a query are compared in."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    bare = _ACCENTS.sub("", unicodedata.normalize("NFD", folded))
    bare = unicodedata.normalize("NFKC", bare.translate(_LETTERS_WITHOUT_DECOMPOSITION))
    return " ".join(bare.split())


def name_matches(query: str, names: Iterable[str]) -> bool:
    """Whether any of the names contains the query, both in their searchable form. A query
    with nothing left to compare (only spaces or accents) matches nothing."""
    needle = searchable(query)
    return bool(needle) and any(needle in searchable(name) for name in names)


def name_query_problem(query: str) -> str | None:
    """Why a name query cannot be searched for, or None. Never quotes the query."""
    if len(query) > MAX_QUERY_LENGTH:
        return f"must be at most {MAX_QUERY_LENGTH} characters"
    if not query.strip():
        return "must not be empty or only spaces"
    if _CONTROL.search(query):
        return "must not contain control characters"
    if not searchable(query):
        return "must contain more than spaces and accents"
    return None


def subject_names(report: ReportReceived) -> list[str]:
    """Every name the report gives the subject, as recorded (encrypted or not)."""
    subject = report.data.subject
    return [subject.name, *(other.value for other in subject.other_names)]
