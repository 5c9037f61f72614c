"""The JSON Schemas of docs/schemas/, loaded with their cross references resolved."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
FILE_FOR_TYPE = {
    "syncbucket.run.started": "run-started.json",
    "syncbucket.run.progress": "run-progress.json",
    "syncbucket.run.completed": "run-completed.json",
    "syncbucket.client.changed": "client-changed.json",
    "syncbucket.sync.accepted": "sync-accepted.json",
    "syncbucket.sync.rejected": "sync-rejected.json",
    "syncbucket.sync.requested": "sync-requested.json",
}


def load(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@cache
def _registry() -> Registry:
    resources = [
        (load(p.name)["$id"], Resource.from_contents(load(p.name))) for p in SCHEMAS.glob("*.json")
    ]
    return Registry().with_resources(resources)


def validator(event_type: str) -> Draft202012Validator:
    schema = load(FILE_FOR_TYPE[event_type])
    return Draft202012Validator(
        schema, registry=_registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def problems(event: dict[str, Any]) -> list[str]:
    """Every way ``event`` breaks the schema of its type (empty: it conforms)."""
    errors = validator(str(event["type"])).iter_errors(event)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors]
