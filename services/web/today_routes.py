"""Today (what needs doing), the alerts (acknowledge, snooze) and the recipients' record."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse, Response

from services.web.pages import FormDep, PageDep, safe_next
from services.web.today import today

router = APIRouter()
NAMED = 50  # alerts of more cases than this show the rest by their case number


async def _case_names(page, alerts) -> dict[str, str | None]:
    """The subject's name of each case an alert is about, and of no other case: each read is
    recorded in the audit of access, and a page reads only what it shows."""
    wanted = list(dict.fromkeys(alert["case_id"] for alert in alerts))[:NAMED]
    replies = await asyncio.gather(*(page.call("casefile", "GET", f"/cases/{case_id}")
                                     for case_id in wanted))
    return {case_id: (reply.body.get("subject") or {}).get("name")
            for case_id, reply in zip(wanted, replies, strict=True) if reply.ok}


@router.get("/")
async def today_page(page: PageDep) -> Response:
    who = page.who
    open_alerts = await page.read("notify", "/alerts", state="open", limit=500)
    snoozed = await page.read("notify", "/alerts", state="snoozed", limit=500)
    sections = today(open_alerts, snoozed, who.account if who else "")
    names = await _case_names(page, [a for s in sections for a in s.alerts])
    return page.render("today.html", sections=sections, names=names)


@router.get("/alerts")
async def alerts_page(
    page: PageDep,
    state: Literal["open", "snoozed", "acknowledged", "withdrawn", "all"] = "open",
    case_id: UUID | None = None,
) -> Response:
    params = {"state": state, "limit": 500}
    if case_id:
        params["case_id"] = str(case_id)
    alerts = await page.read("notify", "/alerts", **params)
    names = await _case_names(page, alerts)
    return page.render("alerts.html", alerts=alerts, names=names, state=state)


@router.post("/alerts/{alert_id}/acknowledgement")
async def acknowledge(alert_id: UUID, page: PageDep, form: FormDep) -> Response:
    reply = await page.call("notify", "POST", f"/alerts/{alert_id}/acknowledgement")
    return _back(page, form, reply, "acknowledged")


@router.post("/alerts/{alert_id}/snooze")
async def snooze(alert_id: UUID, page: PageDep, form: FormDep) -> Response:
    until = form.get("until", "").strip()
    if len(until) == 16:  # a browser's datetime-local, read as UTC
        until += ":00Z"
    reply = await page.call("notify", "POST", f"/alerts/{alert_id}/snooze",
                            json={"until": until})
    return _back(page, form, reply, "snoozed")


def _back(page, form: dict[str, str], reply, done: str) -> Response:
    if reply.ok:
        target = safe_next(form.get("next"))
        mark = "&" if "?" in target else "?"
        return RedirectResponse(f"{target}{mark}done={done}", status_code=303)
    return page.render("error.html", reply.status, status=reply.status,
                       message=reply.message)


@router.get("/recipients")
async def recipients_page(
    page: PageDep,
    country: Annotated[str | None, Query(max_length=2)] = None,
) -> Response:
    params = {"country": country.upper()} if country else {}
    recipients = await page.read("casefile", "/recipients", **params)
    return page.render("recipients.html", recipients=recipients, country=country or "")
