"""The cases a person may read, one case with its timeline, and its audit view."""

from __future__ import annotations

import asyncio
import math
from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from contracts.case_events import SubjectStatus
from services.web.forms import CASE_FORMS, INQUIRY_FORMS
from services.web.i18n import N_
from services.web.pages import NotAllowed, PageDep

router = APIRouter()
PAGE_SIZE = 25
SORTS = {"-opened_at": N_("newest first"), "opened_at": N_("oldest first"),
         "-days_since_last_contact": N_("longest without contact"),
         "-last_recorded_at": N_("recently updated")}
STATUSES = ("open", "closed", *(s.value for s in SubjectStatus))


@router.get("/cases")
async def cases_page(
    page: PageDep,
    name: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(max_length=40)] = "",
    mine: bool = False,
    overdue: bool = False,
    sort: Annotated[str, Query(max_length=40)] = "-opened_at",
    page_number: Annotated[int, Query(alias="page", ge=1, le=10_000)] = 1,
) -> Response:
    params: dict[str, object] = {"limit": PAGE_SIZE, "offset": (page_number - 1) * PAGE_SIZE,
                                 "sort": sort if sort in SORTS else "-opened_at"}
    if name.strip():
        params["name"] = name.strip()
    if status in STATUSES:
        params["status"] = status
    if mine and page.who:
        params["assignee"] = page.who.account
    if overdue:
        params["has_overdue_inquiries"] = "true"
    reply = await page.call("casefile", "GET", "/cases", params=params)
    if reply.status in (403, 404):
        raise NotAllowed(reply.status)
    refused = reply.status == 422  # a filter casefile refuses: say which, keep the form
    if not reply.ok and not refused:
        raise HTTPException(502, detail=f"casefile answered {reply.status}")
    cases = reply.body if reply.ok else []
    total = int(reply.headers.get("x-total-count", len(cases)))
    filters = {"name": name, "status": status, "mine": mine, "overdue": overdue, "sort": sort}
    return page.render("cases.html", 422 if refused else 200, cases=cases, total=total,
                       pages=max(1, math.ceil(total / PAGE_SIZE)), page_number=page_number,
                       filters=filters, page_url=_page_url(filters),
                       errors=reply.detail if refused else None, statuses=STATUSES, sorts=SORTS)


def _page_url(filters: dict):
    kept = {key: ("true" if value is True else value) for key, value in filters.items()
            if value not in ("", False)}
    return lambda number: "/cases?" + urlencode({**kept, "page": number})


@router.get("/cases/{case_id}")
async def case_page(page: PageDep, case_id: UUID,
                    after: Annotated[int, Query(ge=0)] = 0, done: str | None = None) -> Response:
    """`after`: the sequence just recorded; the page waits (briefly) until casefile has it."""
    case = await _case_after(page, case_id, after)
    timeline = await page.read("casefile", f"/cases/{case_id}/timeline")
    behind = after > case["last_sequence"]
    return page.render("case.html", case=case, timeline=timeline, behind=behind, done=done,
                       case_forms=CASE_FORMS, inquiry_forms=INQUIRY_FORMS)


async def _case_after(page, case_id: UUID, after: int) -> dict:
    settings = page.request.app.state.settings
    waited, step = 0.0, 0.1
    while True:
        reply = await page.call("casefile", "GET", f"/cases/{case_id}")
        if reply.ok and reply.body["last_sequence"] >= after:
            return reply.body
        if not reply.ok and (reply.status != 404 or after == 0):
            if reply.status in (403, 404):
                raise NotAllowed(reply.status)
            raise HTTPException(502, detail=f"casefile answered {reply.status}")
        if waited >= settings.read_your_writes_seconds:
            if reply.ok:
                return reply.body
            raise HTTPException(503, detail=N_("The case was recorded but is not shown yet. "
                                               "Reload in a moment."))
        await asyncio.sleep(step)
        waited += step


@router.get("/cases/{case_id}/audit")
async def audit_page(page: PageDep, case_id: UUID,
                     as_of: Annotated[str, Query(max_length=40)] = "") -> Response:
    as_of = as_of.strip()
    params = {"as_of": as_of} if as_of else {}
    case_reply = await page.call("casefile", "GET", f"/cases/{case_id}", params=params or None)
    if case_reply.status == 403:
        raise NotAllowed(403)
    as_of_error = None
    if case_reply.status == 422:
        as_of_error = case_reply.message
    elif case_reply.status == 404 and not as_of:
        raise NotAllowed(404)
    timeline = []
    if case_reply.ok:
        timeline = await page.read("casefile", f"/cases/{case_id}/timeline", **params)
    verification = await page.read("casefile", f"/cases/{case_id}/verification")
    accesses_reply = await page.call("casefile", "GET", f"/cases/{case_id}/accesses")
    return page.render(
        "audit.html", 422 if as_of_error else 200, case_id=str(case_id), as_of=as_of,
        case=case_reply.body if case_reply.ok else None,
        nothing_yet=case_reply.status == 404, as_of_error=as_of_error, timeline=timeline,
        verification=verification,
        accesses=accesses_reply.body if accesses_reply.ok else None)
