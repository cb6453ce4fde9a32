"""A small, entirely fictional scenario so a newcomer sees a working system on first `make up`.

Every name, place and story here is invented. It goes through intake's HTTP API like any client.
"""

from __future__ import annotations

import asyncio

import httpx

from services.accounts.demo import DEMO_PASSWORD
from services.intake.client import IntakeClient
from services.intake.commands import (
    AssignCase,
    RecordContactLost,
    RecordResponse,
    ReportCase,
    SendInquiry,
)

ACTOR = "caseworker-demo"  # one of demo mode's fictional accounts (services/accounts/demo.py)

CASES = [
    {
        "report": {
            "subject": {
                "name": "Ерлан Демоұлы (fictional)",
                "other_names": [
                    {"value": "Erlan Demouly (fictional)", "kind": "latin_transliteration"},
                    {"value": "叶尔兰·德莫（虚构）", "kind": "chinese"},
                    {"value": "ئېرلان دېمو (fictional)", "kind": "uyghur_arabic"},
                ],
                "date_of_birth": "1986-04",
                "citizenships": ["CN"],
                "identity_documents": [
                    {"kind": "resident_id", "number": "DEMO-0001", "issuing_country": "CN"},
                ],
                "last_known_place": "A border town (fictional demo place)",
            },
            "reporter": {
                "name": "Aigerim Demova (fictional)", "relationship": "sister",
                "contact": {"phone": "+7 000 555 0142", "email": "family@example.org",
                            "messenger": "Telegram @demo_family"},
            },
            "summary": "Fictional demo case: left for a family visit across the border and never returned.",
            "consent": {"share_with_un_bodies": True, "share_with_partner_ngos": True},
            "reported_at": "2019-03-04",
        },
        "assignee": "caseworker-demo",  # alerts of this case go to them (deploy/demo_advocates.toml)
        "contact_lost": {
            "last_contact_at": "2017-05", "channel": "messenger",
            "last_contact_place": "Fictional border crossing",
            "circumstances": "Fictional: messages stopped.",
        },
        "inquiries": [
            {   # long past its due date and never answered: notify raises the overdue alert and,
                # as it is overdue for more than the consulate policy's 14 days, the escalation
                "recipient": {"name": "Consulate General (demo)", "kind": "consulate", "country": "CN"},
                "channel": "letter",
                "sent_at": "2025-01-15",
                "due_at": "2025-02-14T00:00:00Z",
                "reference": "DEMO-2025/001",
            },
            {   # answered in time: no alert
                "recipient": {"name": "Ministry of Foreign Affairs (demo)", "kind": "ministry", "country": "KZ"},
                "channel": "email",
                "sent_at": "2025-03-01",
                "response": {
                    "received_at": "2025-03-20", "classification": "no_record",
                    "summary": "Fictional: no record found.",
                },
            },
        ],
    },
    {
        "report": {
            "subject": {
                "name": "Гүлнар Үлгіқызы (fictional)",
                "other_names": [
                    {"value": "Gulnar Ulgikyzy (fictional)", "kind": "latin_transliteration"},
                ],
                "date_of_birth": "1961",
                "citizenships": ["CN"],
            },
            "reporter": {"name": "Daniyar Example (fictional)", "relationship": "son",
                         "contact": {"phone": "+996 000 555 0199"}},
            "summary": "Fictional demo case: detained according to a neighbour; no official word since.",
            # no "consent": the family agreed to nothing yet, so nothing is shared (the default)
            "reported_at": "2020-11",
        },
        "contact_lost": {
            "last_contact_at": "2018", "channel": "phone",
            "circumstances": "Fictional: phone disconnected.",
        },
        "inquiries": [],
    },
]


def load_demo(intake_url: str, accounts_url: str) -> list[str]:
    """Record the demo cases through intake, logged in as the demo caseworker; returns the
    new case ids."""
    return asyncio.run(_load(intake_url, accounts_url))


async def _load(intake_url: str, accounts_url: str) -> list[str]:
    case_ids = []
    async with httpx.AsyncClient(base_url=accounts_url, timeout=30) as accounts:
        opened = await accounts.post("/sessions", json={"account": ACTOR, "password": DEMO_PASSWORD})
        opened.raise_for_status()
    token = opened.json()["access_token"]
    async with IntakeClient.connect(intake_url, token=token) as intake:
        for case in CASES:
            case_id = (await intake.record(ReportCase.model_validate(case["report"]))).case_id
            if "assignee" in case:
                await intake.record(AssignCase(assignee=case["assignee"]), case_id=case_id)
            await intake.record(RecordContactLost.model_validate(case["contact_lost"]), case_id=case_id)
            for inquiry in case["inquiries"]:
                sent = SendInquiry.model_validate({k: v for k, v in inquiry.items() if k != "response"})
                inquiry_id = (await intake.record(sent, case_id=case_id)).inquiry_id
                if "response" in inquiry:
                    answer = RecordResponse.model_validate(inquiry["response"])
                    await intake.record(answer, case_id=case_id, inquiry_id=inquiry_id)
            case_ids.append(str(case_id))
    return case_ids
