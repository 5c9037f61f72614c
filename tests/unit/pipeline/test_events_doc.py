"""docs/events.md stays in step with the code: its run.completed schema names the fields
RunSummary has, and a real event carries every required attribute."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from syncbucket.domain.portals import ModuleKey, Portal
from syncbucket.domain.runs import ItemStatus, RunSource, RunStatus
from syncbucket.pipeline import events, outbox
from syncbucket.pipeline.aggregator import apply_outcome
from syncbucket.pipeline.views import RunSummary, StatusCounts
from tests.support.pipeline import NOW, add_clients, add_firm, item_ids, outcome, start_run

DOC = Path(__file__).resolve().parents[3] / "docs" / "events.md"


def _schema(marker: str) -> dict[str, Any]:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(rf"<!-- schema:{re.escape(marker)} -->\s*```json\n(.*?)```", text, re.S)
    assert found, f"no schema block for {marker} in {DOC}"
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def test_summary_schema_matches_the_model() -> None:
    defs = _schema("run.completed")["$defs"]
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
    schema = _schema("run.completed")
    assert set(schema["required"]) <= set(event)
    assert set(event) <= set(schema["properties"])
    assert set(event["data"]) == set(schema["$defs"]["RunSummary"]["required"])


def test_planned_request_schema_is_valid_json() -> None:
    schema = _schema("sync.requested")
    assert schema["properties"]["type"]["const"] == events.SYNC_REQUESTED_TYPE
    modules = schema["properties"]["data"]["properties"]["modules"]["oneOf"][1]
    assert modules["items"]["enum"] == [m.value for m in ModuleKey]
