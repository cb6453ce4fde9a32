"""What notify's HTTP API reads: alerts (an advocate's inbox), deliveries, deadlines, digests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from sqlalchemy import exists, false, or_, true
from sqlmodel import Session, func, select

from contracts.access import CaseScope, Principal, Role
from services.notify.store import Alert, AlertRecipient, CaseWatch, Delivery, TrackedInquiry

STATES = ("open", "snoozed", "acknowledged", "withdrawn", "all")
"""`open`: waiting for someone and not snoozed now; `snoozed`: put aside until later."""

KIND_ORDER = ("escalation", "overdue", "reprisal_reported", "family_silent", "reminder")


@dataclass(frozen=True)
class AlertFilter:
    advocate: str | None = None
    case_id: UUID | None = None
    inquiry_id: UUID | None = None
    kind: str | None = None
    state: str = "open"
    visible_to: Principal | None = None  # only the alerts this person may see


def visible_to(principal: Principal):
    """An advocate sees the alerts addressed to them; a supervisor also their team's; an
    auditor every alert; an admin none."""
    if principal.role is Role.AUDITOR:
        return true()
    if principal.role not in (Role.CASEWORKER, Role.SUPERVISOR):
        return false()
    mine = _addressed_to(principal.account)
    if principal.role is Role.SUPERVISOR and principal.team is not None:
        return or_(mine, exists().where(CaseWatch.case_id == Alert.case_id,
                                        CaseWatch.team == principal.team))
    return mine


def _addressed_to(account: str):
    return exists().where(AlertRecipient.alert_id == Alert.alert_id,
                          AlertRecipient.account == account)


def may_see_alert(session: Session, principal: Principal, alert_id: UUID) -> bool:
    found = session.exec(select(Alert.alert_id).where(Alert.alert_id == alert_id,
                                                      visible_to(principal))).first()
    return found is not None


def case_scope(session: Session, case_id: UUID) -> CaseScope:
    watch = session.get(CaseWatch, case_id)
    return CaseScope(team=watch.team if watch else None,
                     assignee=watch.assignee if watch else None)


def list_alerts(
    session: Session, where: AlertFilter, now: datetime, *, limit: int, offset: int
) -> tuple[list[Alert], int]:
    """The matching alerts, newest first, and how many match in all."""
    statement = select(Alert)
    if where.visible_to is not None:
        statement = statement.where(visible_to(where.visible_to))
    if where.advocate is not None:
        statement = statement.where(_addressed_to(where.advocate))
    for column, value in ((Alert.case_id, where.case_id), (Alert.inquiry_id, where.inquiry_id),
                          (Alert.kind, where.kind)):
        if value is not None:
            statement = statement.where(column == value)
    not_snoozed = or_(Alert.snoozed_until.is_(None), Alert.snoozed_until <= now)
    if where.state == "open":
        statement = statement.where(Alert.state == "open", not_snoozed)
    elif where.state == "snoozed":
        statement = statement.where(Alert.state == "open", Alert.snoozed_until > now)
    elif where.state != "all":
        statement = statement.where(Alert.state == where.state)
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    rows = session.exec(statement.order_by(Alert.raised_at.desc(), Alert.alert_id)
                        .limit(limit).offset(offset))
    return list(rows), total


def recipients_of(session: Session, alert_ids: list[UUID]) -> dict[UUID, list[str]]:
    found: dict[UUID, list[str]] = {alert_id: [] for alert_id in alert_ids}
    if alert_ids:
        rows = session.exec(select(AlertRecipient).where(AlertRecipient.alert_id.in_(alert_ids))
                            .order_by(AlertRecipient.account))
        for row in rows:
            found[row.alert_id].append(row.account)
    return found


def deliveries_of(session: Session, alert_ids: list[UUID]) -> dict[UUID, list[Delivery]]:
    found: dict[UUID, list[Delivery]] = {alert_id: [] for alert_id in alert_ids}
    if alert_ids:
        rows = session.exec(select(Delivery).where(Delivery.alert_id.in_(alert_ids))
                            .order_by(Delivery.recipient, Delivery.channel))
        for row in rows:
            found[row.alert_id].append(row)
    return found


def inquiry(session: Session, inquiry_id: UUID) -> TrackedInquiry | None:
    return session.get(TrackedInquiry, inquiry_id)


@dataclass(frozen=True)
class Digest:
    open: list[Alert]  # waiting for the advocate now, the most pressing kind first
    raised: int  # alerts raised for them during the day
    acknowledged: int  # alerts they acknowledged during the day


def digest(session: Session, advocate: str, day: date, now: datetime) -> Digest:
    start = datetime.combine(day, time(), tzinfo=UTC)
    end = start + timedelta(days=1)
    mine = select(Alert).where(_addressed_to(advocate))
    pending, _ = list_alerts(session, AlertFilter(advocate=advocate), now, limit=1000, offset=0)
    pending.sort(key=lambda a: (KIND_ORDER.index(a.kind), a.due_at))
    raised = session.exec(select(func.count()).select_from(
        mine.where(Alert.raised_at >= start, Alert.raised_at < end).subquery())).one()
    acknowledged = session.exec(select(func.count()).select_from(
        select(Alert).where(Alert.acknowledged_by == advocate, Alert.acknowledged_at >= start,
                            Alert.acknowledged_at < end).subquery())).one()
    return Digest(pending, raised, acknowledged)
