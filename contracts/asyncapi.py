"""The topics as an AsyncAPI document: `python -m contracts.asyncapi` writes contracts/asyncapi.json.

The same declarations are what the producing services publish through, so the document
describes the code that runs, and its payload schemas are the event models themselves.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from contracts import topics
from contracts.access_events import AnyAccessEvent
from contracts.events import AnyAlertEvent, AnyCaseEvent

DOCUMENT = Path(__file__).parent / "asyncapi.json"


def declare_case_events(broker: Any, topic: str = topics.CASE_EVENTS) -> Any:
    """Intake's publisher of case events on a faststream KafkaBroker."""
    return broker.publisher(
        topic,
        schema=AnyCaseEvent,
        title=f"{topics.CASE_EVENTS}:Publish",
        description=(
            "Every event of every case, written by intake. Keyed by case_id, so one case's "
            "events keep their order; infinite retention. At least once: consumers deduplicate "
            "by event_id. Each event links to the previous one of its case by prev_hash."
        ),
    )


def declare_alert_events(broker: Any, topic: str = topics.ALERT_EVENTS) -> Any:
    """Notify's publisher of alert events on a faststream KafkaBroker."""
    return broker.publisher(
        topic,
        schema=AnyAlertEvent,
        title=f"{topics.ALERT_EVENTS}:Publish",
        description=(
            "Deadlines and alerts, written by notify and keyed by case_id: each case has a "
            "notify stream with its own sequence and hash chain. One alert per deadline and "
            "kind, its alert_id derived from what it is about, so a re-publication is "
            "recognisably the same alert. Logs written before alerts had a lifecycle also "
            "hold inquiry_overdue."
        ),
    )


def declare_access_events(broker: Any, topic: str = topics.ACCESS_EVENTS) -> Any:
    """Casefile's publisher of access events on a faststream KafkaBroker."""
    return broker.publisher(
        topic,
        schema=AnyAccessEvent,
        title=f"{topics.ACCESS_EVENTS}:Publish",
        description=(
            "The audit of access: every read of a case's data by a person (a case, its "
            "timeline, an audit replay, a verification, an export) and every case list, with "
            "who, when, from where and the request's id, recorded before the data is sent. "
            "Keyed by case_id (a list by the reader's account); infinite retention. Never "
            "any of the case's content. At least once: consumers deduplicate by event_id."
        ),
    )


def render() -> str:
    from faststream.kafka import KafkaBroker
    from faststream.specification import AsyncAPI

    broker = KafkaBroker("127.0.0.1:9092", description="Any Kafka 3.x/4.x cluster, or the embedded Tansu.")
    declare_case_events(broker)
    declare_alert_events(broker)
    declare_access_events(broker)
    spec = AsyncAPI(
        broker, title="Advocacy case tracker: event log", version="1", schema_version="3.0.0",
        description="The Kafka topics the services share. Event schemas live in contracts/.",
    ).to_specification()
    return json.dumps(json.loads(spec.to_json()), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> int:
    DOCUMENT.write_text(render(), encoding="utf-8")
    print(f"wrote contracts/{DOCUMENT.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
