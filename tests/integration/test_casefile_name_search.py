"""Finding a case by its subject's name, over HTTP against the real broker and databases:
names in any script, decrypted only for cases the reader may read, erased subjects never
found, the page and X-Total-Count counted after the search, and the name itself neither
logged nor written to the audit of access. Every name is fictional."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from services.casefile.app import create_app as create_casefile
from services.casefile.log_reader import read_log
from tests import support
from tests.integration.casefile_support import (
    intake_and_casefile,
    open_case,
    record,
    until_accesses_folded,
    until_caught_up,
)
from tests.support import ADMIN, AUDITOR, OTHER_TEAM, bearer, running

pytestmark = pytest.mark.integration


def report(name: str, *other_names: tuple[str, str]) -> dict:
    return {"subject": {"name": name, "other_names": [
                {"value": value, "kind": kind} for value, kind in other_names]},
            "reporter": {"name": "Fictional Relative", "relationship": "sister"},
            "summary": "Fictional demo case."}


AIGUL = report("Айгүл Сапарқызы (fictional)",
               ("Aigul Saparkyzy", "latin_transliteration"), ("艾古丽·萨帕尔", "chinese"),
               ("ئايگۈل ساپار", "uyghur_arabic"))
GULSARA = report("Гүлсара Сапарова (fictional)", ("Gulsara Saparova", "latin_transliteration"))
AYDYN = report("Aýdyn Nurlanov (fictional)", ("Aydın", "alias"))
ELSEWHERE = report("Сапар Ержанов (fictional)")  # another team's case
ERASED = report("Ерболат Темиров (fictional)", ("Yerbolat Temirov", "latin_transliteration"))
# what the searches below send: none may reach a log or the access-events topic
QUERIES = ["сапар", "古丽", "aigul saparkyzy", "Aydin", "ساپار", "Ерболат", "Temirov"]


async def test_caseworkers_find_a_case_by_any_of_its_subjects_names_in_any_script(
    intake_app, casefile_settings, kafka, topics, clock, capsys
):
    async with intake_and_casefile(intake_app, casefile_settings, clock=clock) as (
            intake, casefile):
        aigul = await open_case(intake, AIGUL)
        clock.advance(days=1)
        gulsara = await open_case(intake, GULSARA)
        clock.advance(days=1)
        aydyn = await open_case(intake, AYDYN)
        elsewhere = await open_case(intake, ELSEWHERE, **bearer(OTHER_TEAM, clock.now))
        erased = await open_case(intake, ERASED)
        await record(intake, f"/cases/{gulsara}/status",
                     {"status": "detained", "effective_at": "2019", "source": "Fictional."})
        await until_caught_up(casefile, kafka, topics, intake=intake)

        async def found(name: str, *, who=None, **params) -> tuple[list[str], str]:
            headers = bearer(who, clock.now) if who else {}
            answer = await casefile.get("/cases", params={"name": name, **params},
                                        headers=headers)
            assert answer.status_code == 200, answer.text
            return [c["case_id"] for c in answer.json()], answer.headers["X-Total-Count"]

        cyrillic = await found("сапар", sort="opened_at")
        first_page = await found("сапар", sort="opened_at", limit=1)
        second_page = await found("сапар", sort="opened_at", limit=1, offset=1)
        detained_only = await found("сапар", status="detained")
        chinese = await found("古丽")
        transliteration = await found("aigul saparkyzy")
        uyghur = await found("ساپار")
        without_accent = await found("Aydin")
        by_other_team = await found("сапар", who=OTHER_TEAM)
        nobody = await found("Гүлнар")
        before_erasure = await found("Ерболат")

        erasure = await intake.post(f"/cases/{erased}/erasure", json={"reason": "safety"},
                                    headers=admin_headers(clock))
        assert erasure.status_code == 201, erasure.text
        await until_caught_up(casefile, kafka, topics, intake=intake)
        after_erasure = await found("Ерболат")
        by_auditor = await found("Temirov", who=AUDITOR)
        by_what_it_shows = await found("[erased]", who=AUDITOR)
        everything = (await casefile.get("/cases", headers=bearer(AUDITOR, clock.now))).json()
        await until_accesses_folded(casefile, kafka, topics)
    accesses = [r.value async for batch in read_log(kafka, [topics.access_events])
                for r in batch]
    logged = capsys.readouterr()

    # a Cyrillic fragment finds both subjects whose names hold it, in the list's order, and the
    # count is of the cases found, not of every case
    assert cyrillic == ([aigul, gulsara], "2")
    assert first_page == ([aigul], "2") and second_page == ([gulsara], "2")
    assert detained_only == ([gulsara], "1")  # the other filters still apply
    assert chinese == ([aigul], "1")
    assert transliteration == ([aigul], "1")
    assert uyghur == ([aigul], "1")
    assert without_accent == ([aydyn], "1")
    # another team's case is not found by this team, and is by its own
    assert elsewhere not in cyrillic[0]
    assert by_other_team == ([elsewhere], "1")
    assert nobody == ([], "0")
    # an erased subject is found by no one, not even by what the list shows for it
    assert before_erasure == ([erased], "1")
    assert after_erasure == ([], "0") and by_auditor == ([], "0")
    assert by_what_it_shows == ([], "0")
    assert {c["case_id"] for c in everything} == {aigul, gulsara, aydyn, elsewhere, erased}
    # the audit of access records that a name was searched for, and what the list showed,
    # never the name
    listed = [json.loads(value) for value in accesses if b'"cases_listed"' in value]
    searches = [e["data"] for e in listed if e["data"]["filters"].get("name_search")]
    assert len(searches) == 14 and len(listed) == 15
    assert {"filters": {"name_search": True, "sort": "opened_at", "limit": 1, "offset": 0},
            "case_ids": [aigul], "total": 2} in searches
    assert not [q for q in QUERIES for value in accesses if _holds(value, q)]
    # nor does it reach casefile's or intake's logs, which did log these reads
    assert "access_recorded" in logged.err
    assert not [q for q in QUERIES if q in logged.out + logged.err]


def _holds(message: bytes, text: str) -> bool:
    """Whether the JSON message holds the text anywhere, however escaped, in any case."""
    plain = json.dumps(json.loads(message), ensure_ascii=False)
    return text.casefold() in plain.casefold()


def admin_headers(clock) -> dict[str, str]:
    """An admin who entered their password again a minute ago, as erasure needs."""
    token = support.ISSUER.token(ADMIN, clock.now, password_entered=clock.now - timedelta(
        minutes=1))
    return {"Authorization": f"Bearer {token}"}


async def test_a_name_that_cannot_be_searched_for_is_refused_naming_the_parameter(
    casefile_settings, clock
):
    async with running(create_casefile(casefile_settings, clock=clock)) as casefile:
        refused = {name: await casefile.get("/cases", params={"name": name})
                   for name in ["", "   ", "Айгүл" * 40 + "x", "Ai\x00gul", "\u0301"]}
        longest = await casefile.get("/cases", params={"name": "Айгүл" * 40})

    assert {name: r.status_code for name, r in refused.items()} == dict.fromkeys(refused, 422)
    for answer in refused.values():
        assert answer.json()["detail"][0]["loc"] == ["query", "name"]
        assert "Айгүл" not in answer.text and "gul" not in answer.text  # never quoted back
    assert "at most 200 characters" in refused["Айгүл" * 40 + "x"].text
    assert longest.status_code == 200 and longest.json() == []
