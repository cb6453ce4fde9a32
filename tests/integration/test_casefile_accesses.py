"""The audit of access against the real broker and databases: every read of a case's data is
recorded before it is sent, or not sent at all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, text

from services.casefile.access_audit import outbox
from tests.integration.casefile_support import (
    REPORT,
    intake_and_casefile,
    open_case,
    until_caught_up,
)

pytestmark = pytest.mark.integration

CONTENT = [REPORT["subject"]["name"], REPORT["reporter"]["name"], REPORT["summary"],
           "Fictional", "checkpoint", "daughter"]


async def test_a_read_that_cannot_be_recorded_is_refused_and_its_data_not_sent(
    intake_app, casefile_settings, kafka, topics, clock
):
    async with intake_and_casefile(intake_app, casefile_settings, clock=clock) as (
            intake, casefile):
        case_id = await open_case(intake)
        await until_caught_up(casefile, kafka, topics, intake=intake)
        with casefile_engine(casefile_settings) as engine:
            with engine.begin() as connection:
                connection.execute(text("DROP TABLE access_outbox"))  # no record can be made
            refused = [await casefile.get(f"/cases/{case_id}"),
                       await casefile.get(f"/cases/{case_id}/timeline"),
                       await casefile.get("/cases")]
            outbox.prepare(engine)  # the store is back
        served = await casefile.get(f"/cases/{case_id}")

    assert [r.status_code for r in refused] == [503, 503, 503]
    assert served.status_code == 200
    assert all("could not be recorded" in r.json()["detail"] for r in refused)
    assert not [word for word in CONTENT for r in refused if word in r.text]


@contextmanager
def casefile_engine(settings) -> Iterator[Engine]:
    """An engine on casefile's database, as an operator's psql would be."""
    engine = outbox.make_engine(settings.database_url)
    try:
        yield engine
    finally:
        engine.dispose()
