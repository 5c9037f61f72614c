"""Every event the code emits parses with the CloudEvents SDK and matches its JSON Schema
(docs/schemas/); docs/asyncapi.yaml is a valid AsyncAPI 3.0 document naming exactly the
events the code sends and accepts."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from cloudevents.http import from_json
from jsonschema import Draft7Validator

from syncbucket.crypto import CredentialCipher
from syncbucket.db.outbox import OutboxEvent
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.domain.portals import ModuleKey
from syncbucket.intake import integration_secrets
from syncbucket.intake.handler import RequestHandler
from syncbucket.intake.publisher import build_request, encode
from syncbucket.intake.rejections import ALL_REASONS
from syncbucket.pipeline import events
from syncbucket.pipeline.aggregator import apply_outcome
from syncbucket.pipeline.dispatcher import dispatch_tick
from tests.support.event_schemas import FILE_FOR_TYPE, SCHEMAS, load, problems
from tests.support.pipeline import NOW, FakePublisher, add_clients, add_firm, outcome, tan_for
from tests.support.records import one_of_each
from tests.support.services import unavailable

ROOT = Path(__file__).resolve().parents[3]
ASYNCAPI = ROOT / "docs" / "asyncapi.yaml"
ASYNCAPI_SCHEMA = ROOT / "tests/browser/node_modules/@asyncapi/specs/schemas/3.0.0-without-$id.json"


def _every_kind_of_event(
    sessions: SessionFactory, cipher: CredentialCipher
) -> list[dict[str, Any]]:
    """Drive the real code paths until each outgoing event type was written once."""
    with unit_of_work(sessions) as session:
        firm_id = add_firm(session)
        add_clients(session, firm_id, 4)
        secret = integration_secrets.issue(session, cipher, firm_id, NOW, grace=timedelta(0))
    handler = RequestHandler(sessions, cipher, max_bytes=100_000, clock=lambda: NOW)
    data = {"clients": {"tans": [tan_for(n) for n in range(4)]}, "modules": ["notices_orders"]}
    accepted = handler.handle(
        encode(build_request(firm_id=firm_id, data=data, secret=secret)), events.CONTENT_TYPE
    )
    bad = build_request(firm_id=firm_id, data={"clients": "all", "modules": ["x"]}, secret=secret)
    handler.handle(encode(bad), events.CONTENT_TYPE)
    handler.handle(b"not json", events.CONTENT_TYPE)
    assert accepted.accepted is not None
    run_id = accepted.accepted.run_id
    dispatch_tick(sessions, FakePublisher(), {"traces": 100, "itportal": 100}, NOW)
    with unit_of_work(sessions) as session:
        from tests.support.pipeline import item_ids

        for index, item_id in enumerate(item_ids(session, run_id)):
            records = one_of_each() if index == 0 else []
            status = "failed" if index == 1 else "succeeded"
            apply_outcome(session, outcome(item_id, run_id, status, records, error_code="x"), NOW)
    with sessions() as session:
        rows = session.scalars(sa.select(OutboxEvent).order_by(OutboxEvent.id)).all()
        return [events.cloud_event(row) for row in rows]


def test_every_emitted_event_is_a_cloudevent_matching_its_schema(
    session_factory: SessionFactory, cipher: CredentialCipher
) -> None:
    emitted = _every_kind_of_event(session_factory, cipher)
    assert {e["type"] for e in emitted} == {kind.type for kind in events.OUTGOING}
    for event in emitted:
        parsed = from_json(json.dumps(event))  # what a consumer's SDK makes of the bytes
        assert parsed["id"] == event["id"] and parsed["type"] == event["type"]
        assert problems(event) == [], event["type"]
        kind = events.kind_of(event["type"])
        assert kind is not None and event["dataschema"] == kind.schema


def test_a_built_request_matches_the_request_schema() -> None:
    event = build_request(firm_id=3, data={"clients": "all", "modules": "all"}, secret="sbi_x")
    assert problems(event) == []
    for data in (
        {"clients": {"tans": ["BLRA00001A"]}, "modules": ["verify_ldc"], "priority": 3},
        {"clients": {"filter": {"failed_last_time": True}}, "modules": "all"},
        {"clients": {"ids": [1, 2]}, "modules": "all", "idempotency_key": "k"},
    ):
        assert problems(build_request(firm_id=3, data=data, secret="sbi_x")) == [], data
    for data in ({"clients": "some", "modules": "all"}, {"clients": "all"}, {"modules": "all"}):
        assert problems(build_request(firm_id=3, data=data, secret="sbi_x")), data


def test_the_schemas_name_what_the_code_uses() -> None:
    rejected = load("sync-rejected.json")["properties"]["data"]["properties"]["reason"]["enum"]
    assert sorted(rejected) == sorted(ALL_REASONS)
    modules = load("client-changed.json")["properties"]["data"]["properties"]["module"]["enum"]
    assert modules == [key.value for key in ModuleKey]
    assert {p.name for p in SCHEMAS.glob("*.json")} == {*FILE_FOR_TYPE.values(), "run-summary.json"}


def _asyncapi() -> dict[str, Any]:
    return yaml.safe_load(ASYNCAPI.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_the_asyncapi_document_is_valid_asyncapi_3() -> None:
    if not ASYNCAPI_SCHEMA.exists():
        unavailable("the AsyncAPI schemas", "run `npm ci --prefix tests/browser` (make test does)")
    schema = json.loads(ASYNCAPI_SCHEMA.read_text(encoding="utf-8"))
    errors = [e.message[:200] for e in Draft7Validator(schema).iter_errors(_asyncapi())]
    assert errors == []


def test_the_asyncapi_document_describes_exactly_what_the_code_sends_and_accepts() -> None:
    document = _asyncapi()
    messages = document["components"]["messages"]
    named = {message["name"]: message for message in messages.values()}
    expected = {kind.type for kind in events.OUTGOING} | {events.SYNC_REQUESTED_TYPE}
    assert set(named) == expected
    for event_type, message in named.items():
        assert message["payload"]["$ref"] == f"./schemas/{FILE_FOR_TYPE[event_type]}"
        assert message["contentType"] == events.CONTENT_TYPE
    routing = {}
    for channel in document["channels"].values():
        exchange = channel["bindings"]["amqp"]["exchange"]["name"]
        for ref in channel["messages"].values():
            name = messages[ref["$ref"].rsplit("/", 1)[1]]["name"]
            routing[name] = (exchange, channel["address"])
    assert routing[events.SYNC_REQUESTED_TYPE] == (events.REQUESTS_EXCHANGE, "sync.requested")
    for kind in events.OUTGOING:
        exchange, address = routing[kind.type]
        assert exchange == events.EXCHANGE
        prefix, _, rest = address.partition(".")
        assert kind.routing_key.startswith(prefix + ".")
        assert rest.startswith("{") or rest == kind.routing_key.split(".", 1)[1]


@pytest.mark.parametrize("name", sorted(FILE_FOR_TYPE.values()))
def test_each_schema_is_a_valid_json_schema(name: str) -> None:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(load(name))
