"""The typed client's own logic: paths per command and refusals as exceptions (no server)."""

from __future__ import annotations

import httpx
import pytest

from services.intake import commands
from services.intake.client import IntakeClient, IntakeRefused, path_for


def test_a_command_needing_a_case_says_so():
    with pytest.raises(TypeError, match="needs case_id"):
        path_for(commands.RecordContactLost(last_contact_at="2019", circumstances="x"),
                 case_id=None, inquiry_id=None)



async def test_a_refusal_carries_intakes_explanation():
    async def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"detail": "case 1 not found"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse), base_url="http://x") as http:
        with pytest.raises(IntakeRefused, match="case 1 not found") as refused:
            await IntakeClient(http).record(
                commands.RecordContactLost(last_contact_at="2019", circumstances="x"), case_id="1"
            )
    assert refused.value.status_code == 404
