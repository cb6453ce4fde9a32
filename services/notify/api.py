"""HTTP routes of notify: advocates' alerts (the in-app inbox), deadlines and their reasons."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, Field
from sqlmodel import Session

from contracts.alert_events import Deadline
from services.notify import inbox, queries
from services.notify.deadlines import explain
from services.notify.store import Alert, Delivery

router = APIRouter()


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


SessionDep = Annotated[Session, Depends(get_session)]
# Until accounts exist (issue 6) the advocate is whoever the client says it is.
ActorDep = Annotated[str, Header(alias="X-Actor", min_length=1, max_length=100)]


@router.get("/alerts", response_model=list[AlertPublic], tags=["alerts"])
def list_alerts(
    request: Request, response: Response, session: SessionDep,
    advocate: Annotated[str | None, Query(max_length=100)] = None,
    case_id: UUID | None = None, inquiry_id: UUID | None = None,
    kind: Literal["reminder", "overdue", "escalation", "family_silent",
                  "reprisal_reported"] | None = None,
    state: Literal["open", "snoozed", "acknowledged", "withdrawn", "all"] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100, offset: Annotated[int, Query(ge=0)] = 0,
) -> list[AlertPublic]:
    """Alerts, newest first: by default those waiting for someone now (an advocate's inbox
    with `advocate=`); `state=all` for every alert. The total is in X-Total-Count."""
    now = request.app.state.clock()
    where = queries.AlertFilter(advocate, case_id, inquiry_id, kind, state)
    alerts, total = queries.list_alerts(session, where, now, limit=limit, offset=offset)
    response.headers["X-Total-Count"] = str(total)
    return _public(session, alerts, now)


@router.get("/alerts/{alert_id}", response_model=AlertPublic, tags=["alerts"])
def get_alert(alert_id: UUID, request: Request, session: SessionDep) -> AlertPublic:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise HTTPException(404, detail=f"no alert {alert_id}")
    return _public(session, [alert], request.app.state.clock())[0]


@router.post("/alerts/{alert_id}/acknowledgement", response_model=AlertPublic, tags=["alerts"])
def acknowledge(alert_id: UUID, actor: ActorDep, request: Request, session: SessionDep):
    """Take charge of an alert: it leaves every recipient's inbox."""
    return _act(request, session, lambda now, channels_of: inbox.acknowledge(
        session, alert_id, actor, now=now, channels_of=channels_of))


@router.post("/alerts/{alert_id}/snooze", response_model=AlertPublic, tags=["alerts"])
def snooze(alert_id: UUID, body: Snooze, actor: ActorDep, request: Request, session: SessionDep):
    """Put an alert aside until `until`; it comes back to the inbox then."""
    return _act(request, session, lambda now, channels_of: inbox.snooze(
        session, alert_id, actor, body.until, now=now, channels_of=channels_of))


@router.get("/inquiries/{inquiry_id}/deadline", response_model=DeadlinePublic, tags=["deadlines"])
def get_deadline(inquiry_id: UUID, session: SessionDep) -> DeadlinePublic:
    """The inquiry's deadline as notify last recorded it, and how it was worked out."""
    inquiry = queries.inquiry(session, inquiry_id)
    if inquiry is None or inquiry.sent_at is None:
        raise HTTPException(404, detail=f"no inquiry {inquiry_id} is known to notify")
    deadline = Deadline.model_validate_json(inquiry.deadline) if inquiry.deadline else None
    return DeadlinePublic(
        inquiry_id=inquiry.inquiry_id, case_id=inquiry.case_id, status=inquiry.status,
        revision=inquiry.revision, deadline=deadline,
        explanation=explain(deadline) if deadline else None,
    )


@router.get("/advocates/{advocate}/digest", response_model=DigestPublic, tags=["alerts"])
def get_digest(
    advocate: Annotated[str, Path(max_length=100)], request: Request, session: SessionDep,
    day: date | None = None,
) -> DigestPublic:
    """One advocate's day: what waits for them (the most pressing first), what came, what
    they dealt with."""
    now = request.app.state.clock()
    day = day or now.date()
    found = queries.digest(session, advocate, day, now)
    return DigestPublic(advocate=advocate, day=day, raised=found.raised,
                        acknowledged=found.acknowledged,
                        open=_public(session, found.open, now))


@router.get("/policies", tags=["deadlines"])
def get_policies(request: Request) -> list[dict]:
    """The deadline policies in force, as loaded from their file."""
    return [p.model_dump(mode="json") | {"label": p.label}
            for p in request.app.state.ctx.book.policies]


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
