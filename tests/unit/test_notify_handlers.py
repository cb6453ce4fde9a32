"""A case event notify cannot read is retried, and nothing of its content reaches the logs."""

from __future__ import annotations

import json
import traceback
from types import SimpleNamespace

import pytest
from structlog.testing import capture_logs

from services.notify.handlers import CaseEventNotApplied, case_event_handler

SECRET = "Fictional Secret Name"


async def test_an_unreadable_event_is_retried_without_leaking_its_content():
    body = json.dumps({"type": "inquiry_sent", "case_id": "not-a-uuid", "sent_at": SECRET,
                       "data": {"recipient": {"name": SECRET}}}).encode()
    handle = case_event_handler(engine=None, default_response_days=30, retry_delay=0)

    with capture_logs() as logs, pytest.raises(CaseEventNotApplied) as raised:
        await handle(SimpleNamespace(body=body))

    assert [entry["event"] for entry in logs] == ["undecodable_case_event"]
    assert logs[0]["error"] == "ValidationError"
    shown = repr(logs) + "".join(traceback.format_exception(raised.value))
    assert SECRET not in shown
