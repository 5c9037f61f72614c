"""CloudEvents 1.0 (JSON structured mode) for what the pipeline announces.

The envelope is built from an outbox row at publish time; the row's ``event_id`` is the
CloudEvents ``id``, so a re-published row carries the same id and consumers dedupe on it.
``docs/events.md`` documents the envelope and the ``data`` schemas.
"""

from __future__ import annotations

from typing import Any

from syncbucket.db.outbox import OutboxEvent

SPEC_VERSION = "1.0"
SOURCE = "/syncbucket/aggregator"
EXCHANGE = "syncbucket.events"
CONTENT_TYPE = "application/cloudevents+json"

RUN_COMPLETED_TYPE = "syncbucket.run.completed"
RUN_COMPLETED_ROUTING_KEY = "run.completed"
RUN_COMPLETED_SCHEMA = "https://syncbucket.dev/schemas/run-completed/v1"

# Upstream requests (docs/architecture.md, "Contracts"): planned, documented in docs/events.md.
REQUESTS_EXCHANGE = "syncbucket.requests"
SYNC_REQUESTED_TYPE = "syncbucket.sync.requested"

_SCHEMAS = {RUN_COMPLETED_TYPE: RUN_COMPLETED_SCHEMA}


def cloud_event(row: OutboxEvent) -> dict[str, Any]:
    """The structured-mode CloudEvent for an outbox row (a JSON-ready dict)."""
    event: dict[str, Any] = {
        "specversion": SPEC_VERSION,
        "id": row.event_id,
        "source": SOURCE,
        "type": row.event_type,
        "time": row.created_at.isoformat(),
        "datacontenttype": "application/json",
        "data": row.payload,
    }
    schema = _SCHEMAS.get(row.event_type)
    if schema is not None:
        event["dataschema"] = schema
    event.update(_run_attributes(row.payload))
    return event


def _run_attributes(payload: dict[str, Any]) -> dict[str, Any]:
    # subject + the firmid extension let consumers filter without parsing data.
    attributes: dict[str, Any] = {}
    if "run_id" in payload:
        attributes["subject"] = f"runs/{payload['run_id']}"
    if "firm_id" in payload:
        attributes["firmid"] = str(payload["firm_id"])
    return attributes
