"""A small typed client for intake's HTTP API, used by the demo loader and the tests.

    async with IntakeClient.connect("http://127.0.0.1:8001", token=access_token) as intake:
        opened = await intake.record(ReportCase(...))
        await intake.record(RecordContactLost(...), case_id=opened.case_id)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import httpx

from services.intake import commands
from services.intake.recording import Recorded

# Where each command is sent; `{case_id}` and `{inquiry_id}` are filled from the call.
PATHS: dict[type[commands.Command], str] = {
    commands.ReportCase: "/cases",
    commands.RecordContactLost: "/cases/{case_id}/contact-lost",
    commands.RecordContactRestored: "/cases/{case_id}/contact-restored",
    commands.RecordInformation: "/cases/{case_id}/information",
    commands.RecordStatusChange: "/cases/{case_id}/status",
    commands.ReportThreat: "/cases/{case_id}/threats",
    commands.RecordPublicAction: "/cases/{case_id}/public-actions",
    commands.RecordFamilyCheckIn: "/cases/{case_id}/family-check-ins",
    commands.ChangeConsent: "/cases/{case_id}/consent",
    commands.RestrictExport: "/cases/{case_id}/export-restrictions",
    commands.AddNote: "/cases/{case_id}/notes",
    commands.AttachEvidence: "/cases/{case_id}/evidence",
    commands.AssignCase: "/cases/{case_id}/assignment",
    commands.CloseCase: "/cases/{case_id}/closure",
    commands.ReopenCase: "/cases/{case_id}/reopening",
    commands.EraseSubject: "/cases/{case_id}/erasure",
    commands.SendInquiry: "/cases/{case_id}/inquiries",
    commands.SendFollowUp: "/cases/{case_id}/inquiries/{inquiry_id}/follow-ups",
    commands.RecordResponse: "/cases/{case_id}/inquiries/{inquiry_id}/responses",
    commands.WithdrawInquiry: "/cases/{case_id}/inquiries/{inquiry_id}/withdrawal",
    commands.PauseInquiry: "/cases/{case_id}/inquiries/{inquiry_id}/pause",
    commands.ResumeInquiry: "/cases/{case_id}/inquiries/{inquiry_id}/resumption",
    commands.ExtendDeadline: "/cases/{case_id}/inquiries/{inquiry_id}/deadline-extension",
}


class IntakeRefused(Exception):
    """Intake answered with an error; `detail` is its explanation (field, rule, version)."""

    def __init__(self, status_code: int, detail: Any) -> None:
        super().__init__(f"intake refused the command ({status_code}): {detail}")
        self.status_code = status_code
        self.detail = detail


class IntakeClient:
    """Records commands as the account whose access token it holds (or whose `http` client
    authenticates itself)."""

    def __init__(self, http: httpx.AsyncClient, *, token: str | None = None) -> None:
        self._http = http
        self._token = token

    @classmethod
    @asynccontextmanager
    async def connect(
        cls, base_url: str, *, token: str | None = None, timeout: float = 30.0
    ) -> AsyncIterator[IntakeClient]:
        async with httpx.AsyncClient(base_url=base_url, timeout=timeout) as http:
            yield cls(http, token=token)

    async def record(
        self,
        command: commands.Command,
        *,
        case_id: UUID | str | None = None,
        inquiry_id: UUID | str | None = None,
        idempotency_key: str | None = None,
        if_match: int | None = None,
    ) -> Recorded:
        """Send one command; returns the recorded event's receipt or raises IntakeRefused."""
        path = path_for(command, case_id=case_id, inquiry_id=inquiry_id)
        headers = {}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if if_match is not None:
            headers["If-Match"] = f'"{if_match}"'
        response = await self._http.post(
            path, json=command.model_dump(mode="json", exclude_none=True), headers=headers
        )
        if response.status_code != 201:
            raise IntakeRefused(response.status_code, _detail(response))
        return Recorded.model_validate_json(response.content)


def path_for(
    command: commands.Command, *, case_id: UUID | str | None, inquiry_id: UUID | str | None
) -> str:
    template = PATHS.get(type(command))
    if template is None:
        raise TypeError(f"no intake route for {type(command).__name__}")
    if "{case_id}" in template and case_id is None:
        raise TypeError(f"{type(command).__name__} needs case_id")
    if "{inquiry_id}" in template and inquiry_id is None:
        raise TypeError(f"{type(command).__name__} needs inquiry_id")
    return template.format(case_id=case_id, inquiry_id=inquiry_id)


def _detail(response: httpx.Response) -> Any:
    try:
        return response.json().get("detail")
    except ValueError:
        return response.text
