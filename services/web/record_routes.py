"""Recording what happened: a form per event type, sent to intake.

Each rendering of a form carries a fresh Idempotency-Key in a hidden field: a form submitted
twice (a double click, a reload after a lost answer) records one event.
"""

from __future__ import annotations

import uuid
from uuid import UUID

from fastapi import APIRouter, HTTPException
from fastapi.responses import RedirectResponse, Response

from services.web.forms import FORMS, REPORT, EventForm, errors_by_field, request_body
from services.web.pages import FormDep, NotAllowed, Page, PageDep

router = APIRouter()


def _form(slug: str, scope: str) -> EventForm:
    form = FORMS.get(slug)
    if form is None or form.scope != scope:
        raise HTTPException(404, detail=f"nothing called {slug!r} can be recorded here")
    return form


@router.get("/cases/new")
async def new_case_page(page: PageDep) -> Response:
    return _render(page, REPORT, values={})


@router.post("/cases/new")
async def new_case(page: PageDep, submitted: FormDep) -> Response:
    return await _record(page, REPORT, submitted)


@router.get("/cases/{case_id}/record/{slug}")
async def record_page(page: PageDep, case_id: UUID, slug: str,
                      inquiry: UUID | None = None) -> Response:
    form = _form(slug, "inquiry" if inquiry else "case")
    case = await page.read("casefile", f"/cases/{case_id}")
    return _render(page, form, values={}, case=case, inquiry_id=inquiry)


@router.post("/cases/{case_id}/record/{slug}")
async def record(page: PageDep, case_id: UUID, slug: str, submitted: FormDep,
                 inquiry: UUID | None = None) -> Response:
    form = _form(slug, "inquiry" if inquiry else "case")
    return await _record(page, form, submitted, case_id=case_id, inquiry_id=inquiry)


async def _record(page: Page, form: EventForm, submitted: dict[str, str], *,
                  case_id: UUID | None = None, inquiry_id: UUID | None = None) -> Response:
    key = submitted.get("idempotency_key", "")
    headers = {"Idempotency-Key": key} if key else {}
    reply = await page.call(
        "intake", "POST", form.intake_path(str(case_id), str(inquiry_id)),
        json=request_body(form, submitted), headers=headers)
    if reply.status == 201:
        recorded = reply.body
        return RedirectResponse(
            f"/cases/{recorded['case_id']}?after={recorded['sequence']}&done={form.slug}",
            status_code=303)
    if reply.status == 404:
        raise NotAllowed(404)
    beside, general = {}, []
    if reply.status == 422:
        beside, general = errors_by_field(form, reply.detail)
    else:  # a rule (409), a refusal (403), the store away (503): said above the form
        general = [reply.message]
    case = await page.read("casefile", f"/cases/{case_id}") if case_id else None
    return _render(page, form, values=submitted, case=case, inquiry_id=inquiry_id,
                   errors=beside, general=general, status_code=reply.status)


def _render(page: Page, form: EventForm, *, values: dict[str, str], case: dict | None = None,
            inquiry_id: UUID | None = None, errors: dict[str, str] | None = None,
            general: list[str] | None = None, status_code: int = 200) -> Response:
    action = "/cases/new" if form.scope == "new" else (
        f"/cases/{case['case_id']}/record/{form.slug}"
        + (f"?inquiry={inquiry_id}" if inquiry_id else ""))
    return page.render("record.html", status_code, form=form, values=values, case=case,
                       inquiry_id=str(inquiry_id) if inquiry_id else None, action=action,
                       errors=errors or {}, general=general or [],
                       idempotency_key=uuid.uuid4().hex)
