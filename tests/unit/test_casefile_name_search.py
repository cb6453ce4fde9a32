"""Finding a case by its subject's name: the matching rule, with fictional names in the
scripts the NGOs' cases are written in, and which names it is given to compare."""

from __future__ import annotations

import os
from collections.abc import Iterator
from uuid import uuid4

import pytest

from contracts.keystore import KEY_BYTES, KeyStore, MasterKey, make_engine
from services.casefile.name_search import (
    MAX_QUERY_LENGTH,
    name_matches,
    name_query_problem,
    searchable,
)
from services.casefile.personal import plain_texts

# one fictional person, as a family and a caseworker might write her name
NAMES = [
    "Айгүл Сапарқызы",  # Kazakh Cyrillic
    "ئايگۈل ساپار",  # Uyghur Arabic script
    "艾古丽·萨帕尔",  # Chinese
    "Aigul Saparkyzy",  # Latin transliteration
    "Aydın  Saparova",  # an alias, typed with two spaces
]


@pytest.mark.parametrize("query", [
    "Сапар",  # a Cyrillic fragment
    "айгүл",  # another case
    "АЙГҮЛ САПАРҚЫЗЫ",  # the whole name, upper case
    "ساپار",  # Uyghur Arabic
    "古丽",  # Chinese characters
    "萨",  # one character
    "aigul sap",  # across the space
    "SAPARKYZY",
    "aydin",  # the dotless ı read as i
    "aydin saparova",  # repeated spaces collapsed
    "  aydın   saparova ",
    "ａｉｇｕｌ",  # full-width Latin, as some Chinese keyboards type it
])
def test_a_fragment_of_any_name_in_any_script_finds_the_subject(query):
    assert name_matches(query, NAMES)


@pytest.mark.parametrize(("query", "name"), [
    ("Aýdyn", "Aydyn"),  # Turkmen ý
    ("aydyn", "Aýdyn"),
    ("Ayşe", "Ayse"),
    ("Müller", "Muller"),
    ("Straße", "STRASSE"),
    ("Фёдор", "Федор"),  # ё and е
    ("Сергей", "Сергеи"),  # й and и
    ("ÄSEM", "äsem"),
    ("İlham", "ilham"),  # Turkish dotted capital I
    ("Ǻsel", "asel"),
])
def test_accents_and_case_are_ignored(query, name):
    assert name_matches(query, [name])
    assert name_matches(name, [query])


@pytest.mark.parametrize(("query", "names"), [
    ("Гүлнар", NAMES),  # someone else
    ("Айгүлх", NAMES),  # longer than any name
    ("艾萨", NAMES),  # characters of the name, but not together
    ("Aigul Saparova", NAMES),  # parts of two different names
    ("Нурлан", ["Нұрлан"]),  # ұ is a letter of Kazakh, not u with an accent
    ("Aydin", ["Aýdyn"]),  # i and y are two letters, whatever the accent
    ("", NAMES),  # nothing to look for
    ("  ", NAMES),
    ("\u0301", NAMES),  # an accent alone
    ("Aigul", []),  # a subject without names
])
def test_a_query_no_name_contains_finds_nothing(query, names):
    assert not name_matches(query, names)


def test_marks_that_are_letters_of_their_script_are_kept():
    # Devanagari: the vowel sign is part of the name, not an accent on it
    assert searchable("किरण") != searchable("करण")
    assert not name_matches("करण", ["किरण"])


def test_names_and_queries_are_compared_in_one_form():
    assert searchable("  Aýdyn\u00a0 SAPAROVA\t") == "aydyn saparova"
    assert searchable("艾古丽（虚构）") == "艾古丽(虚构)"
    assert searchable("A\u030ayse") == searchable("Åyse") == "ayse"


@pytest.mark.parametrize(("query", "problem"), [
    ("", "must not be empty or only spaces"),
    ("   ", "must not be empty or only spaces"),
    ("x" * (MAX_QUERY_LENGTH + 1), f"must be at most {MAX_QUERY_LENGTH} characters"),
    ("Ai\x00gul", "must not contain control characters"),
    ("\u0301\u0308", "must contain more than spaces and accents"),
])
def test_a_query_that_cannot_be_searched_for_says_why_without_quoting_it(query, problem):
    assert name_query_problem(query) == problem


@pytest.mark.parametrize("query", ["a", "古", "x" * MAX_QUERY_LENGTH, " Айгүл ", "Aýdyn"])
def test_a_query_of_one_to_two_hundred_characters_is_searched_for(query):
    assert name_query_problem(query) is None


@pytest.fixture
def keys(tmp_path) -> Iterator[KeyStore]:
    store = KeyStore(make_engine(f"sqlite:///{tmp_path / 'keys.db'}"),
                     MasterKey(os.urandom(KEY_BYTES)), cache_seconds=0)
    store.prepare()
    yield store
    store.dispose()


def test_names_are_compared_only_as_far_as_they_can_be_read(keys):
    kept, erased, keyless, other = uuid4(), uuid4(), uuid4(), uuid4()
    for case_id in (kept, erased, other):
        keys.cipher_for_writing(case_id)
    keys.store_made()
    sealed = keys.cipher(kept).encrypt("Айгүл Сапарқызы")
    elsewhere = keys.cipher(other).encrypt("Гүлсара Сапарова")
    keys.erase([erased])

    assert plain_texts(keys, kept, [sealed, "Aigul (recorded before encryption)"]) == [
        "Айгүл Сапарқызы", "Aigul (recorded before encryption)"]
    # copied from another case: it does not decrypt here, and is left out, never guessed at
    assert plain_texts(keys, kept, [elsewhere]) == []
    # erased: nothing at all, not even what was recorded in plain text
    assert plain_texts(keys, erased, ["Aigul (recorded before encryption)"]) == []
    # no key (a log restored without its key store): only what was never encrypted
    assert plain_texts(keys, keyless, [sealed, "Aigul"]) == ["Aigul"]
