"""HTTP routes of notify: the alerts it has raised."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlmodel import Session

from services.notify import store

router = APIRouter()


class AlertPublic(BaseModel):
    event_id: UUID
    case_id: UUID
    inquiry_id: UUID
    kind: str
    due_at: datetime
    raised_at: datetime


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


@router.get("/alerts", response_model=list[AlertPublic], tags=["alerts"])
def list_alerts(session: SessionDep, case_id: UUID | None = None) -> list[AlertPublic]:
    """Alerts raised so far, oldest first, as a plain JSON list like casefile's lists."""
    return [
        AlertPublic.model_validate(alert, from_attributes=True)
        for alert in store.list_alerts(session, case_id=case_id)
    ]
