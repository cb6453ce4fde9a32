"""The case list's filters, audit replay as of a date, and the recipients view, over HTTP
against the real broker and databases. Intake and casefile share one fake clock."""

from __future__ import annotations

import pytest

from contracts import encode_event
from services.casefile.app import create_app as create_casefile
from tests.integration.casefile_support import (
    answer,
    case_of,
    intake_and_casefile,
    open_case,
    overdue_alert,
    publish,
    record,
    send_inquiry,
    timeline_of,
    until_caught_up,
)
from tests.support import running

pytestmark = pytest.mark.integration

KZ_MINISTRY = {"name": "Fictional Ministry of Foreign Affairs", "kind": "ministry", "country": "KZ"}
CN_EMBASSY = {"name": "Fictional Embassy", "kind": "embassy", "country": "CN"}


def person(name: str) -> dict:
    return {"subject": {"name": name},
            "reporter": {"name": "Fictional Relative", "relationship": "son"},
            "summary": "Fictional demo case."}


async def ids(casefile, **params) -> list[str]:
    response = await casefile.get("/cases", params=params)
    assert response.status_code == 200, response.text
    return [c["case_id"] for c in response.json()]


async def test_caseworkers_filter_and_sort_the_case_list(
    intake_app, casefile_settings, kafka, topics, clock
):
    both = intake_and_casefile(intake_app, casefile_settings, clock=clock)
    async with both as (intake, casefile):
        # three fictional cases reported a day apart
        quiet = await open_case(intake, person("Fictional Quiet"))
        clock.advance(days=1)
        assigned = await open_case(intake, person("Fictional Assigned"))
        clock.advance(days=1)
        overdue = await open_case(intake, person("Fictional Overdue"))

        await record(intake, f"/cases/{quiet}/contact-lost",
                     {"last_contact_at": "2017", "circumstances": "Fictional."})
        await record(intake, f"/cases/{assigned}/contact-lost",
                     {"last_contact_at": "2025-02-20", "circumstances": "Fictional."})
        await record(intake, f"/cases/{assigned}/assignment", {"assignee": "caseworker-7"})
        await send_inquiry(intake, assigned, recipient=KZ_MINISTRY)
        late = await send_inquiry(intake, overdue, recipient=CN_EMBASSY)
        await publish(kafka, topics.alert_events, [encode_event(overdue_alert(overdue, late))],
                      key=overdue)
        await record(intake, f"/cases/{overdue}/status",
                     {"status": "detained", "effective_at": "2019", "source": "Fictional."})
        await until_caught_up(casefile, kafka, topics, intake=intake)

        newest_first = await ids(casefile)
        oldest_first = await ids(casefile, sort="opened_at")
        by_assignee = await ids(casefile, assignee="caseworker-7")
        unassigned = await ids(casefile, unassigned="true", sort="opened_at")
        with_overdue = await ids(casefile, has_overdue_inquiries="true")
        detained = await ids(casefile, status=["detained", "closed"])
        silent_for_years = await ids(casefile, min_days_since_last_contact=365)
        recent_contact = await ids(casefile, max_days_since_last_contact=30)
        longest_silence_first = await ids(casefile, sort="-days_since_last_contact")
        opened_first_day = await ids(casefile, opened_from="2025-03-01", opened_to="2025-03-01")
        opened_in_march = await ids(casefile, opened_from="2025-03", sort="opened_at")
        to_kazakhstan = await ids(casefile, recipient_country="kz")
        page = await casefile.get("/cases", params={"limit": 2, "offset": 2, "sort": "opened_at"})
        listed = {c["case_id"]: c for c in (await casefile.get("/cases")).json()}

    assert newest_first == [overdue, assigned, quiet]
    assert oldest_first == [quiet, assigned, overdue]
    assert by_assignee == [assigned]
    assert unassigned == [quiet, overdue]
    assert with_overdue == [overdue]
    assert detained == [overdue]
    assert silent_for_years == [quiet]
    assert recent_contact == [assigned]
    assert longest_silence_first == [quiet, assigned, overdue]  # no known contact: last
    assert opened_first_day == [quiet]
    assert opened_in_march == [quiet, assigned, overdue]
    assert to_kazakhstan == [assigned]
    assert page.headers["X-Total-Count"] == "3" and [c["case_id"] for c in page.json()] == [overdue]
    # on 2025-03-03: last contact "2017" counts from its last day, 2017-12-31
    assert listed[quiet]["days_since_last_contact"] == 2618
    assert listed[assigned]["days_since_last_contact"] == 10
    assert listed[overdue]["status"] == "detained" and listed[overdue]["inquiries_overdue"] == 1


BAD_FILTERS = [
    ({"status": "vanished"}, "status"),
    ({"sort": "shoe_size"}, "sort"),
    ({"opened_from": "2025-13"}, "opened_from"),
    ({"min_days_since_last_contact": -1}, "min_days_since_last_contact"),
    ({"min_days_since_last_contact": 9, "max_days_since_last_contact": 3},
     "max_days_since_last_contact"),
    ({"opened_from": "2025-03", "opened_to": "2025-01"}, "opened_to"),
    ({"recipient_country": "China"}, "recipient_country"),
    ({"limit": 0}, "limit"),
]


async def test_a_bad_filter_is_refused_naming_the_parameter(casefile_settings):
    async with running(create_casefile(casefile_settings)) as casefile:
        answers = [(await casefile.get("/cases", params=params), field)
                   for params, field in BAD_FILTERS]
    for response, field in answers:
        assert response.status_code == 422, (field, response.text)
        locations = [error["loc"][:2] for error in response.json()["detail"]]
        assert ["query", field] in locations, (field, locations)


async def test_audit_replay_shows_the_case_as_it_was_known_on_a_date(
    intake_app, casefile_settings, kafka, topics, clock
):
    async with intake_and_casefile(intake_app, casefile_settings) as (intake, casefile):
        case_id = await open_case(intake)  # recorded 2025-03-01 09:00
        inquiry_id = await send_inquiry(intake, case_id, "2025-03-01")
        clock.advance(days=14)  # 2025-03-15
        await record(intake, f"/cases/{case_id}/contact-lost",
                     {"last_contact_at": "2016-08", "circumstances": "Fictional."})
        await record(intake, f"/cases/{case_id}/information",
                     {"received_at": "2025-03-15", "source": "a fictional neighbour",
                      "reliability": "rumour", "content": "Fictional: seen in a camp."})
        clock.advance(days=30)  # 2025-04-14
        await answer(intake, case_id, inquiry_id, received_at="2025-04-14")
        await record(intake, f"/cases/{case_id}/status",
                     {"status": "sentenced", "effective_at": "2024", "source": "Fictional."})
        await until_caught_up(casefile, kafka, topics, intake=intake)

        first_day = await case_of(casefile, case_id, as_of="2025-03-01")
        mid_march = await case_of(casefile, case_id, as_of="2025-03-15T12:00:00Z")
        now = await case_of(casefile, case_id)
        timeline_then = await timeline_of(casefile, case_id, as_of="2025-03-15")
        before_anything = await casefile.get(f"/cases/{case_id}", params={"as_of": "2025-02"})
        bad_date = await casefile.get(f"/cases/{case_id}", params={"as_of": "yesterday"})
        only_information = await timeline_of(casefile, case_id, type="information_received")
        bad_type = await casefile.get(f"/cases/{case_id}/timeline", params={"type": "rumour"})

    assert (first_day["as_of"], first_day["events"], first_day["last_contact_at"]) == (
        "2025-03-01T23:59:59.999999Z", 2, None)
    assert [i["state"] for i in first_day["inquiries"]] == ["awaiting"]
    assert first_day["latest_information"] is None and first_day["status"] == "open"
    assert mid_march["last_contact_at"] == "2016-08"
    assert mid_march["latest_information"]["reliability"] == "rumour"
    assert [i["state"] for i in mid_march["inquiries"]] == ["awaiting"]
    assert (now["as_of"], now["status"], now["inquiries"][0]["state"]) == (
        None, "sentenced", "answered")
    # sent "2025-03-01" (a day) sorts before the report's exact moment on that day
    assert [e["type"] for e in timeline_then] == [
        "contact_lost", "inquiry_sent", "report_received", "information_received"]
    assert before_anything.status_code == 404 and "nothing was recorded" in before_anything.text
    assert bad_date.status_code == 422 and bad_date.json()["detail"][0]["loc"] == ["query", "as_of"]
    assert [e["type"] for e in only_information] == ["information_received"]
    assert bad_type.status_code == 422


async def test_recipients_show_which_institutions_answer(
    intake_app, casefile_settings, kafka, topics
):
    async with intake_and_casefile(intake_app, casefile_settings) as (intake, casefile):
        case_id = await open_case(intake)
        for sent_at, received_at in (("2025-01-01", "2025-01-11"), ("2025-01-01", "2025-01-31")):
            inquiry = await send_inquiry(intake, case_id, sent_at, recipient=KZ_MINISTRY)
            await answer(intake, case_id, inquiry, received_at=received_at)
        silent = [await send_inquiry(intake, case_id, "2025-01-05",
                                     recipient={**CN_EMBASSY, "name": name})
                  for name in ("Fictional Embassy", "FICTIONAL  EMBASSY")]
        await publish(kafka, topics.alert_events,
                      [encode_event(overdue_alert(case_id, silent[0]))], key=case_id)
        await until_caught_up(casefile, kafka, topics, intake=intake)
        everyone = (await casefile.get("/recipients")).json()
        chinese = (await casefile.get("/recipients", params={"country": "cn"})).json()
        bad_kind = await casefile.get("/recipients", params={"kind": "pigeon"})

    by_name = {r["name"]: r for r in everyone}
    ministry, embassy = by_name[KZ_MINISTRY["name"]], by_name["FICTIONAL  EMBASSY"]
    assert (ministry["sent"], ministry["answered"], ministry["median_days_to_answer"],
            ministry["never_answered_share"]) == (2, 2, 20.0, 0.0)
    # two spellings, one institution; one overdue, one still within its window
    assert (embassy["sent"], embassy["overdue"], embassy["awaiting"],
            embassy["never_answered_share"]) == (2, 1, 1, 1.0)
    assert [r["country"] for r in chinese] == ["CN"]
    assert bad_kind.status_code == 422
