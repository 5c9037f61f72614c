"""CloudEvents 1.0 (JSON structured mode): every event SyncBucket sends or accepts.

The one home of the event vocabulary: types, routing keys, sources and schema ids. The
envelope is built from an outbox row at publish time; the row's ``event_id`` is the
CloudEvents ``id``, so a re-published row carries the same id and consumers dedupe on it.
``docs/events.md`` explains each event; ``docs/schemas/`` holds the JSON Schemas and
``docs/asyncapi.yaml`` the channels (both checked against this module by the tests).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from syncbucket.db.outbox import OutboxEvent

SPEC_VERSION = "1.0"
EXCHANGE = "syncbucket.events"
CONTENT_TYPE = "application/cloudevents+json"
SCHEMA_BASE = "https://syncbucket.dev/schemas"

#: Stable event ids are UUID v5 of a name unique to what happened (``run.started:42``), so
#: writing the same fact twice -- a redelivered request, a replayed outcome -- makes one row.
EVENT_ID_NAMESPACE = uuid.UUID("8f0e1c52-5d2b-4f7e-9a64-3c1f0d2b7a90")

REQUESTS_EXCHANGE = "syncbucket.requests"
REQUESTS_QUEUE = "syncbucket.requests"
REQUESTS_DEAD_QUEUE = "syncbucket.requests.dead"
SYNC_REQUESTED_TYPE = "syncbucket.sync.requested"
SYNC_REQUESTED_ROUTING_KEY = "sync.requested"
SYNC_REQUESTED_SCHEMA = f"{SCHEMA_BASE}/sync-requested/v1"


@dataclass(frozen=True)
class EventKind:
    """One outgoing event type: where it is routed, who sends it, its data schema."""

    type: str
    routing_key: str
    source: str
    schema: str


AGGREGATOR = "/syncbucket/aggregator"
COORDINATOR = "/syncbucket/coordinator"
REQUEST_CONSUMER = "/syncbucket/requests"

RUN_STARTED = EventKind(
    "syncbucket.run.started", "run.started", COORDINATOR, f"{SCHEMA_BASE}/run-started/v1"
)
RUN_PROGRESS = EventKind(
    "syncbucket.run.progress", "run.progress", AGGREGATOR, f"{SCHEMA_BASE}/run-progress/v1"
)
RUN_COMPLETED = EventKind(
    "syncbucket.run.completed", "run.completed", AGGREGATOR, f"{SCHEMA_BASE}/run-completed/v1"
)
CLIENT_CHANGED = EventKind(
    "syncbucket.client.changed",
    "client.changed",
    AGGREGATOR,
    f"{SCHEMA_BASE}/client-changed/v1",
)
SYNC_ACCEPTED = EventKind(
    "syncbucket.sync.accepted",
    "sync.accepted",
    REQUEST_CONSUMER,
    f"{SCHEMA_BASE}/sync-accepted/v1",
)
SYNC_REJECTED = EventKind(
    "syncbucket.sync.rejected",
    "sync.rejected",
    REQUEST_CONSUMER,
    f"{SCHEMA_BASE}/sync-rejected/v1",
)
OUTGOING: tuple[EventKind, ...] = (
    RUN_STARTED,
    RUN_PROGRESS,
    RUN_COMPLETED,
    CLIENT_CHANGED,
    SYNC_ACCEPTED,
    SYNC_REJECTED,
)
_BY_TYPE = {kind.type: kind for kind in OUTGOING}

# Kept for the callers that name run.completed alone (relay metrics, the demo).
RUN_COMPLETED_TYPE = RUN_COMPLETED.type
RUN_COMPLETED_ROUTING_KEY = RUN_COMPLETED.routing_key
RUN_COMPLETED_SCHEMA = RUN_COMPLETED.schema
SOURCE = AGGREGATOR


def kind_of(event_type: str) -> EventKind | None:
    return _BY_TYPE.get(event_type)


def stable_event_id(name: str) -> str:
    """The event id for a fact named ``name``: the same name always gives the same id."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, name))


def cloud_event(row: OutboxEvent) -> dict[str, Any]:
    """The structured-mode CloudEvent for an outbox row (a JSON-ready dict)."""
    kind = kind_of(row.event_type)
    event: dict[str, Any] = {
        "specversion": SPEC_VERSION,
        "id": row.event_id,
        "source": kind.source if kind is not None else AGGREGATOR,
        "type": row.event_type,
        "time": row.created_at.isoformat(),
        "datacontenttype": "application/json",
        "data": row.payload,
    }
    if kind is not None:
        event["dataschema"] = kind.schema
    event.update(_run_attributes(row.payload))
    event.update(row.attributes or {})
    return event


def _run_attributes(payload: dict[str, Any]) -> dict[str, Any]:
    # subject + the firmid extension let consumers filter without parsing data.
    attributes: dict[str, Any] = {}
    if payload.get("run_id") is not None:
        attributes["subject"] = f"runs/{payload['run_id']}"
    if payload.get("firm_id") is not None:
        attributes["firmid"] = str(payload["firm_id"])
    return attributes
