"""Personal data end to end, on the real broker and both databases: encrypted by intake before
it is stored or published, read in plain text only by those allowed to read the case, and
erased for good by an admin. Data is fictional."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from sqlalchemy import create_engine, text

from contracts.keystore import KeyErased, KeyStore
from contracts.personal_data import ERASED
from services.intake.app import create_app as create_intake
from tests import support
from tests.integration.casefile_support import (
    case_of,
    intake_and_casefile,
    open_case,
    record,
    send_inquiry,
    timeline_of,
    until_caught_up,
)
from tests.support import (
    ADMIN,
    AUDITOR,
    OTHER_TEAM,
    bearer,
    read_topic,
    running,
    session_key_store,
)

pytestmark = pytest.mark.integration

NAME = "Гүлнар Төлеуова (fictional)"
PHONE = "+7 000 555 0177"
REPORT = {
    "subject": {"name": NAME, "identity_documents": [{"kind": "passport", "number": "N0000042"}]},
    "reporter": {"name": "Fictional Daughter", "relationship": "daughter",
                 "contact": {"phone": PHONE}},
    "summary": "Fictional: detained at a checkpoint, family not informed.",
}


def admin_headers(clock, *, password_entered_minutes_ago: float = 1) -> dict[str, str]:
    now = clock()
    token = support.ISSUER.token(ADMIN, now,
                         password_entered=now - timedelta(minutes=password_entered_minutes_ago))
    return {"Authorization": f"Bearer {token}"}


def stored_text(database_url: str, query: str) -> str:
    """What a query finds in a service's database, as text."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return " ".join(str(row) for row in connection.execute(text(query)))
    finally:
        engine.dispose()


async def test_people_allowed_to_read_a_case_read_its_names_and_no_store_holds_them(
    intake_app, intake_settings, casefile_settings, kafka, topics, clock
):
    # casefile runs on the real clock (its tokens are dated by it), intake on the test's
    async with intake_and_casefile(intake_app, casefile_settings) as (intake, casefile):
        case_id = await open_case(intake, REPORT)
        await record(intake, f"/cases/{case_id}/notes", {"text": "Fictional: called the family."})
        await until_caught_up(casefile, kafka, topics, intake=intake)
        listed = (await casefile.get("/cases")).json()
        detail = await case_of(casefile, case_id)
        timeline = await timeline_of(casefile, case_id)
        now = datetime.now(UTC)
        audited = await casefile.get(f"/cases/{case_id}", headers=bearer(AUDITOR, now))
        other_team = await casefile.get(f"/cases/{case_id}", headers=bearer(OTHER_TEAM, now))

    assert [c["subject_name"] for c in listed] == [NAME]
    assert audited.status_code == 200, audited.text
    assert detail["subject"]["name"] == audited.json()["subject"]["name"] == NAME
    assert detail["subject"]["identity_documents"][0]["number"] == "N0000042"
    assert detail["reporter"]["contact"]["phone"] == PHONE
    assert timeline[1]["data"]["text"] == "Fictional: called the family."
    assert other_team.status_code == 404 and NAME not in other_team.text
    # at rest: intake's store, casefile's read models and the log hold ciphertext only
    for url, query in [
        (intake_settings.database_url, "SELECT body FROM case_event"),
        (casefile_settings.database_url, "SELECT subject_name FROM case_summary"),
        (casefile_settings.database_url, "SELECT body FROM case_event"),
    ]:
        stored = stored_text(url, query)
        assert "enc:1:" in stored and NAME not in stored and PHONE not in stored
    on_log = str(await read_topic(kafka, topics.case_events))
    assert NAME not in on_log and PHONE not in on_log and "N0000042" not in on_log


async def test_an_admin_who_entered_their_password_again_erases_a_subject_for_good(
    intake_app, casefile_settings, kafka, topics, clock
):
    async with intake_and_casefile(intake_app, casefile_settings) as (intake, casefile):
        case_id = await open_case(intake, REPORT)
        await send_inquiry(intake, case_id)
        await until_caught_up(casefile, kafka, topics, intake=intake)
        before = await case_of(casefile, case_id, as_of="2025-03-01")
        erasure = f"/cases/{case_id}/erasure"
        by_caseworker = await intake.post(erasure, json={"reason": "family_request"})
        stale_password = await intake.post(erasure, json={"reason": "family_request"},
                                           headers=admin_headers(
                                               clock, password_entered_minutes_ago=6))
        unknown_reason = await intake.post(erasure, json={"reason": "because"},
                                           headers=admin_headers(clock))
        erased = await intake.post(erasure, json={"reason": "family_request"},
                                   headers=admin_headers(clock))
        again = await intake.post(erasure, json={"reason": "family_request"},
                                  headers=admin_headers(clock))
        more = await intake.post(f"/cases/{case_id}/notes", json={"text": "Fictional."})
        await until_caught_up(casefile, kafka, topics, intake=intake)
        after = await case_of(casefile, case_id)
        as_of_before = await case_of(casefile, case_id, as_of="2025-03-01")
        timeline = await timeline_of(casefile, case_id)
        listed = (await casefile.get("/cases")).json()
        verified = (await casefile.get(f"/cases/{case_id}/verification")).json()

    assert before["subject"]["name"] == NAME
    assert by_caseworker.status_code == 403 and "admin" in by_caseworker.json()["detail"]
    assert stale_password.status_code == 403
    assert "reauthentication" in stale_password.json()["detail"]
    assert unknown_reason.status_code == 422
    assert unknown_reason.json()["detail"][0]["loc"] == ["body", "reason"]
    assert erased.status_code == 201, erased.text
    assert again.status_code == 409
    assert again.json()["detail"]["rule"] == "subject_already_erased"
    assert more.status_code == 409 and more.json()["detail"]["rule"] == "subject_erased"
    # every view, as of any date, shows the personal fields as erased, never the ciphertext
    for view in (after, as_of_before):
        assert view["subject"]["name"] == ERASED
        assert view["subject"]["identity_documents"][0]["number"] == ERASED
        assert view["reporter"]["contact"]["phone"] == view["summary"] == ERASED
        assert "enc:1:" not in str(view)
    assert after["erasure"] == {**after["erasure"], "reason": "family_request", "by": ADMIN.account}
    report = next(entry for entry in timeline if entry["type"] == "report_received")
    assert report["data"]["subject"]["name"] == ERASED
    assert timeline[-1]["type"] == "subject_erased"
    assert listed[0]["subject_name"] == ERASED and listed[0]["erased_at"]
    # the rest of the history stays: inquiries, dates, and an intact hash chain
    assert after["inquiries"][0]["recipient_country"] == "CN"
    assert verified["intact"] is True
    keys = session_key_store()
    try:
        with pytest.raises(KeyErased):
            keys.cipher(UUID(case_id))
    finally:
        keys.dispose()


async def test_an_erasure_whose_key_outlived_a_crash_is_finished_at_the_next_start(
    intake_app, intake_settings, clock, monkeypatch
):
    def key_store_down(self, case_ids):
        raise ConnectionError("the key store is unreachable")

    with monkeypatch.context() as patched:
        patched.setattr(KeyStore, "erase", key_store_down)
        async with running(intake_app) as intake:
            case_id = await open_case(intake, REPORT)
            erased = await intake.post(f"/cases/{case_id}/erasure", json={"reason": "safety"},
                                       headers=admin_headers(clock))
    assert erased.status_code == 201  # recorded: the erasure is on its way to the log
    keys = session_key_store()
    try:
        keys.cipher(UUID(case_id))  # the key store was down: the key is still there
        async with running(create_intake(intake_settings, clock=clock)):
            pass  # a new start finishes the erasure
        with pytest.raises(KeyErased):
            KeyStore(keys._engine, keys.master, cache_seconds=0).cipher(UUID(case_id))
    finally:
        keys.dispose()
