"""What may leave the NGO, on the real broker and both databases: the family's consent gates
public actions and exports, and parts of a case marked never to be exported stay in. Data is
fictional."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests import support
from tests.integration.casefile_support import (
    intake_and_casefile,
    open_case,
    record,
    send_inquiry,
    until_caught_up,
)
from tests.support import AUDITOR, CASEWORKER, OTHER_TEAM

pytestmark = pytest.mark.integration

NAME = "Ерлан Тестұлы (fictional)"
REPORT = {
    "subject": {"name": NAME, "date_of_birth": "1986-04",
                "identity_documents": [{"kind": "resident_id", "number": "FICT-0042"}]},
    "reporter": {"name": "Fictional Sister", "relationship": "sister",
                 "contact": {"phone": "+7 000 555 0111"}},
    "summary": "Fictional: did not come back from a family visit.",
    "consent": {"share_with_un_bodies": True},
}


def password_entered(minutes_ago: float, who=CASEWORKER) -> dict[str, str]:
    now = datetime.now(UTC)  # casefile runs on the real clock
    token = support.ISSUER.token(who, now, password_entered=now - timedelta(minutes=minutes_ago))
    return {"Authorization": f"Bearer {token}"}


async def test_a_case_goes_only_to_an_audience_the_family_agreed_to_and_without_what_is_withheld(
    intake_app, casefile_settings, kafka, topics
):
    async with intake_and_casefile(intake_app, casefile_settings) as (intake, casefile):
        case_id = await open_case(intake, REPORT)
        await send_inquiry(intake, case_id)
        await record(intake, f"/cases/{case_id}/export-restrictions", {
            "never_export": ["reporter", "subject.identity_documents"],
            "reason": "Fictional: the reporter's parents still live in the region."})
        media_refused = await intake.post(f"/cases/{case_id}/public-actions", json={
            "kind": "media", "taken_at": "2025-02-01", "description": "Fictional interview."})
        await record(intake, f"/cases/{case_id}/public-actions", {
            "kind": "un_submission", "taken_at": "2025-02-01", "description": "Fictional."})
        await until_caught_up(casefile, kafka, topics, intake=intake)
        export = f"/cases/{case_id}/export"
        fresh = password_entered(1)
        to_un = await casefile.get(export, params={"destination": "un_bodies"}, headers=fresh)
        to_media = await casefile.get(export, params={"destination": "media"}, headers=fresh)
        stale = await casefile.get(export, params={"destination": "un_bodies"},
                                   headers=password_entered(6))
        by_auditor = await casefile.get(export, params={"destination": "un_bodies"},
                                        headers=password_entered(1, AUDITOR))
        by_other_team = await casefile.get(export, params={"destination": "un_bodies"},
                                           headers=password_entered(1, OTHER_TEAM))
        unknown = await casefile.get(export, params={"destination": "everyone"}, headers=fresh)
        unsaid = await casefile.get(export, headers=fresh)
        await record(intake, f"/cases/{case_id}/consent", {"consent": {
            "share_with_un_bodies": True, "share_with_media": True}})
        await record(intake, f"/cases/{case_id}/public-actions", {
            "kind": "media", "taken_at": "2025-02-02", "description": "Fictional interview."})
        await until_caught_up(casefile, kafka, topics, intake=intake)
        agreed = await casefile.get(export, params={"destination": "media"},
                                    headers=password_entered(1))
        detail = (await casefile.get(f"/cases/{case_id}")).json()

    assert media_refused.status_code == 409
    assert media_refused.json()["detail"]["rule"] == "consent_missing"
    assert to_un.status_code == 200, to_un.text
    document = to_un.json()
    assert document["subject"]["name"] == NAME and document["subject"]["date_of_birth"] == "1986-04"
    assert "identity_documents" not in document["subject"] and "FICT-0042" not in to_un.text
    assert document["reporter"] is None and "+7 000 555 0111" not in to_un.text
    assert document["withheld"] == ["reporter", "subject.identity_documents"]
    assert document["inquiries"][0]["recipient_country"] == "CN"
    assert to_un.headers["cache-control"] == "no-store"
    assert to_media.status_code == 409 and to_media.json()["detail"]["rule"] == "consent_missing"
    assert stale.status_code == 403 and "reauthentication" in stale.json()["detail"]
    assert by_auditor.status_code == 403
    assert by_other_team.status_code == 404 and NAME not in by_other_team.text
    assert unknown.status_code == 422
    assert unsaid.status_code == 422 and unsaid.json()["detail"][0]["loc"] == ["query", "destination"]
    assert agreed.status_code == 200 and agreed.json()["destination"] == "media"
    assert detail["consent"]["share_with_media"] is True
    assert detail["never_export"] == ["reporter", "subject.identity_documents"]


async def test_an_erased_subject_is_never_exported(intake_app, casefile_settings, kafka, topics,
                                                  clock):
    async with intake_and_casefile(intake_app, casefile_settings) as (intake, casefile):
        case_id = await open_case(intake, REPORT)
        now = clock()
        admin = support.ISSUER.token(support.ADMIN, now, password_entered=now)
        erased = await intake.post(f"/cases/{case_id}/erasure", json={"reason": "safety"},
                                   headers={"Authorization": f"Bearer {admin}"})
        await until_caught_up(casefile, kafka, topics, intake=intake)
        export = await casefile.get(f"/cases/{case_id}/export",
                                    params={"destination": "un_bodies"},
                                    headers=password_entered(1))
    assert erased.status_code == 201, erased.text
    assert export.status_code == 409 and export.json()["detail"]["rule"] == "subject_erased"
    assert NAME not in export.text
