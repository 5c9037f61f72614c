"""The event schemas stay in step with the code: run.started / run.completed carry a
RunSummary, whose schema (docs/schemas/run-summary.json) names its fields, and a real
event carries every required attribute."""

from __future__ import annotations

from sqlalchemy.orm import Session

from syncbucket.domain.portals import ModuleKey, Portal
from syncbucket.domain.runs import ItemStatus, RunSource, RunStatus
from syncbucket.pipeline import events, outbox
from syncbucket.pipeline.aggregator import apply_outcome
from syncbucket.pipeline.views import RunSummary, StatusCounts
from tests.support.event_schemas import load, problems
from tests.support.pipeline import NOW, add_clients, add_firm, item_ids, outcome, start_run


def test_summary_schema_matches_the_model() -> None:
    defs = load("run-summary.json")["$defs"]
    summary = defs["RunSummary"]
    assert set(summary["properties"]) == set(RunSummary.model_fields)
    assert set(summary["required"]) == set(RunSummary.model_fields)
    assert set(defs["StatusCounts"]["properties"]) == set(StatusCounts.model_fields)
    assert set(defs["StatusCounts"]["properties"]) == {s.value for s in ItemStatus}
    assert summary["properties"]["status"]["enum"] == [s.value for s in RunStatus]
    assert summary["properties"]["source"]["enum"] == [s.value for s in RunSource]
    assert summary["properties"]["modules"]["items"]["enum"] == [m.value for m in ModuleKey]
    portals = summary["properties"]["by_portal"]["propertyNames"]["enum"]
    assert portals == [p.value for p in Portal]


def test_a_real_event_has_every_required_attribute(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 1)
    created = start_run(session, firm_id, [ModuleKey.VERIFY_LDC])
    (only,) = item_ids(session, created.run_id)
    apply_outcome(session, outcome(only, created.run_id), NOW)
    (row,) = outbox.pending_events(session)
    event = events.cloud_event(row)
    schema = load("run-completed.json")
    assert set(schema["required"]) <= set(event)
    assert set(event) <= set(schema["properties"])
    assert problems(event) == []
