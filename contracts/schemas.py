"""Writes the JSON Schema of every event into contracts/schemas/: `python -m contracts.schemas`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from contracts.access_events import ACCESS_EVENT_TYPES
from contracts.events import RECORDED_EVENT_TYPES

SCHEMA_DIR = Path(__file__).parent / "schemas"


def rendered_schemas() -> dict[str, str]:
    """File name -> JSON Schema text, for every version on a log of every case, alert and
    access event type."""
    out = {}
    for model in (*RECORDED_EVENT_TYPES, *ACCESS_EVENT_TYPES):
        fields = model.model_fields
        name = f"{fields['type'].default}.v{fields['schema_version'].default}.json"
        out[name] = json.dumps(model.model_json_schema(), indent=2, ensure_ascii=False) + "\n"
    return out


def main() -> int:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name, text in rendered_schemas().items():
        (SCHEMA_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote contracts/schemas/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
