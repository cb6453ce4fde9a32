"""HTTP routes of notify: advocates' alerts (the in-app inbox), deadlines and their reasons."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, Field
from sqlmodel import Session

from contracts.access import Principal, Role, may_read_case
from contracts.alert_events import Deadline
from contracts.casework_events import AccountId
from services.notify import inbox, queries
from services.notify.deadlines import explain
from services.notify.store import Alert, Delivery

router = APIRouter()
MAX_OFFSET = 1_000_000_000  # well inside the databases' 64-bit integers


class DeliveryPublic(BaseModel):
    recipient: str
    channel: str
    state: str  # pending, delivered, failed, cancelled (withdrawn before it went out)
    attempts: int
    last_error: str | None


class AlertPublic(BaseModel):
    alert_id: UUID
    kind: str
    case_id: UUID
    inquiry_id: UUID | None
    due_at: datetime = Field(description="When the alert fell due.")
    raised_at: datetime
    reason: str
    state: str = Field(description="open, snoozed, acknowledged or withdrawn")
    recipients: list[str]
    snoozed_until: datetime | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    withdrawn_reason: str | None
    deliveries: list[DeliveryPublic]


class DeadlinePublic(BaseModel):
    inquiry_id: UUID
    case_id: UUID
    status: str = Field(description="open, answered or withdrawn")
    revision: int
    deadline: Deadline | None
    explanation: str | None = Field(examples=[
        "due 2025-03-14: 20 business days after 2025-02-13, China calendar, policy embassy-v1"])


class Snooze(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"until": "2025-03-05T09:00:00Z"}]}}

    until: AwareDatetime = Field(description="When the alert comes back to the inbox.")


class DigestPublic(BaseModel):
    advocate: str
    day: date
    raised: int
    acknowledged: int
    open: list[AlertPublic]


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


async def get_principal(request: Request) -> Principal:
    return await request.app.state.authenticator.principal(request)


SessionDep = Annotated[Session, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


def _visible(session: Session, principal: Principal, alert_id: UUID) -> None:
    """404 for an alert the person may not see, as for one that does not exist."""
    if not queries.may_see_alert(session, principal, alert_id):
        raise HTTPException(404, detail="no such alert")


@router.get("/alerts", response_model=list[AlertPublic], tags=["alerts"])
def list_alerts(
    request: Request, response: Response, session: SessionDep, principal: PrincipalDep,
    advocate: Annotated[AccountId | None, Query(description="An account.")] = None,
    case_id: UUID | None = None, inquiry_id: UUID | None = None,
    kind: Literal["reminder", "overdue", "escalation", "family_silent",
                  "reprisal_reported"] | None = None,
    state: Literal["open", "snoozed", "acknowledged", "withdrawn", "all"] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[AlertPublic]:
    """The alerts you may see, newest first (your own; a supervisor's team's too; an
    auditor's, all): by default those waiting for someone now, `advocate=` one advocate's
    inbox, `state=all` every one. The total is in X-Total-Count."""
    now = request.app.state.clock()
    where = queries.AlertFilter(advocate, case_id, inquiry_id, kind, state, visible_to=principal)
    alerts, total = queries.list_alerts(session, where, now, limit=limit, offset=offset)
    response.headers["X-Total-Count"] = str(total)
    return _public(session, alerts, now)


@router.get("/alerts/{alert_id}", response_model=AlertPublic, tags=["alerts"])
def get_alert(
    alert_id: UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> AlertPublic:
    _visible(session, principal, alert_id)
    alert = session.get(Alert, alert_id)
    return _public(session, [alert], request.app.state.clock())[0]


@router.post("/alerts/{alert_id}/acknowledgement", response_model=AlertPublic, tags=["alerts"])
def acknowledge(alert_id: UUID, principal: PrincipalDep, request: Request, session: SessionDep):
    """Take charge of an alert (one addressed to you, or your team's as a supervisor): it
    leaves every recipient's inbox."""
    _may_act(session, principal, alert_id)
    return _act(request, session, lambda now, channels_of: inbox.acknowledge(
        session, alert_id, principal.account, now=now, channels_of=channels_of))


@router.post("/alerts/{alert_id}/snooze", response_model=AlertPublic, tags=["alerts"])
def snooze(alert_id: UUID, body: Snooze, principal: PrincipalDep, request: Request,
           session: SessionDep):
    """Put an alert aside until `until`; it comes back to the inbox then."""
    _may_act(session, principal, alert_id)
    return _act(request, session, lambda now, channels_of: inbox.snooze(
        session, alert_id, principal.account, body.until, now=now, channels_of=channels_of))


@router.get("/inquiries/{inquiry_id}/deadline", response_model=DeadlinePublic, tags=["deadlines"])
def get_deadline(inquiry_id: UUID, session: SessionDep, principal: PrincipalDep) -> DeadlinePublic:
    """The inquiry's deadline as notify last recorded it, and how it was worked out."""
    inquiry = queries.inquiry(session, inquiry_id)
    if inquiry is None or inquiry.sent_at is None or not may_read_case(
            principal, queries.case_scope(session, inquiry.case_id)):
        raise HTTPException(404, detail=f"no inquiry {inquiry_id} is known to notify")
    deadline = Deadline.model_validate_json(inquiry.deadline) if inquiry.deadline else None
    return DeadlinePublic(
        inquiry_id=inquiry.inquiry_id, case_id=inquiry.case_id, status=inquiry.status,
        revision=inquiry.revision, deadline=deadline,
        explanation=explain(deadline) if deadline else None,
    )


@router.get("/advocates/{advocate}/digest", response_model=DigestPublic, tags=["alerts"])
def get_digest(
    advocate: Annotated[AccountId, Path()], request: Request, session: SessionDep,
    principal: PrincipalDep, day: date | None = None,
) -> DigestPublic:
    """One advocate's day: what waits for them (the most pressing first), what came, what
    they dealt with. Your own, or any advocate's for an auditor."""
    if advocate != principal.account and principal.role is not Role.AUDITOR:
        raise HTTPException(403, detail="only your own digest")
    now = request.app.state.clock()
    day = day or now.date()
    found = queries.digest(session, advocate, day, now)
    return DigestPublic(advocate=advocate, day=day, raised=found.raised,
                        acknowledged=found.acknowledged,
                        open=_public(session, found.open, now))


@router.get("/policies", tags=["deadlines"])
def get_policies(request: Request, principal: PrincipalDep) -> list[dict]:
    """The deadline policies in force, as loaded from their file."""
    return [p.model_dump(mode="json") | {"label": p.label}
            for p in request.app.state.ctx.book.policies]


def _may_act(session: Session, principal: Principal, alert_id: UUID) -> None:
    _visible(session, principal, alert_id)
    if principal.role not in (Role.CASEWORKER, Role.SUPERVISOR):
        raise HTTPException(403, detail="your role may not act on alerts")


def _act(request: Request, session: Session, action) -> AlertPublic:
    state = request.app.state
    now = state.clock()
    try:
        alert = action(now, state.ctx.channels_of)
        session.commit()
    except inbox.AlertNotFound:
        raise HTTPException(404, detail="no such alert") from None
    except inbox.AlertRuleViolated as exc:
        raise HTTPException(409, detail={"rule": exc.rule, "message": exc.message}) from None
    except inbox.InvalidSnooze as exc:
        raise HTTPException(422, detail=[{"loc": ["body", "until"], "msg": str(exc),
                                          "type": "invalid_snooze"}]) from None
    state.scheduler.wake.set()  # publish the new event now rather than at the next tick
    session.refresh(alert)
    return _public(session, [alert], now)[0]


def _public(session: Session, alerts: list[Alert], now: datetime) -> list[AlertPublic]:
    ids = [a.alert_id for a in alerts]
    recipients = queries.recipients_of(session, ids)
    deliveries = queries.deliveries_of(session, ids)
    return [_alert_public(a, recipients[a.alert_id], deliveries[a.alert_id], now) for a in alerts]


def public_state(alert: Alert, now: datetime) -> str:
    """open, snoozed (open but put aside until later), acknowledged or withdrawn."""
    if alert.state == "open" and alert.snoozed_until is not None and alert.snoozed_until > now:
        return "snoozed"
    return alert.state


def _alert_public(
    alert: Alert, recipients: list[str], deliveries: list[Delivery], now: datetime
) -> AlertPublic:
    return AlertPublic(
        alert_id=alert.alert_id, kind=alert.kind, case_id=alert.case_id,
        inquiry_id=alert.inquiry_id, due_at=alert.due_at, raised_at=alert.raised_at,
        reason=alert.reason, state=public_state(alert, now), recipients=recipients,
        snoozed_until=alert.snoozed_until, acknowledged_by=alert.acknowledged_by,
        acknowledged_at=alert.acknowledged_at, withdrawn_reason=alert.withdrawn_reason,
        deliveries=[DeliveryPublic(recipient=d.recipient, channel=d.channel, state=d.state,
                                   attempts=d.attempts, last_error=d.last_error)
                    for d in deliveries],
    )
