"""The outbox relay's reads and marks, and the CloudEvent envelope built from a row."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from syncbucket.domain.portals import ModuleKey
from syncbucket.pipeline import events, outbox
from syncbucket.pipeline.aggregator import apply_outcome
from syncbucket.pipeline.views import RunSummary
from tests.support.pipeline import NOW, add_clients, add_firm, item_ids, outcome, start_run


def _completed_run(session: Session) -> int:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 1)
    created = start_run(session, firm_id, [ModuleKey.VERIFY_LDC])
    (only,) = item_ids(session, created.run_id)
    apply_outcome(session, outcome(only, created.run_id), NOW)
    return created.run_id


def test_pending_then_sent(session: Session) -> None:
    run_id = _completed_run(session)
    pending = outbox.pending_events(session, limit=10)
    assert [row.payload["run_id"] for row in pending] == [run_id]
    outbox.note_attempt(session, [pending[0].id])
    assert outbox.mark_sent(session, [pending[0].id], NOW + timedelta(seconds=1)) == 1
    assert outbox.mark_sent(session, [pending[0].id], NOW) == 0  # already sent
    assert outbox.pending_events(session) == []


def test_cloud_event_envelope(session: Session) -> None:
    run_id = _completed_run(session)
    (row,) = outbox.pending_events(session)
    event = events.cloud_event(row)
    assert event["specversion"] == "1.0"
    assert event["id"] == row.event_id and len(row.event_id) == 36
    assert event["type"] == "syncbucket.run.completed"
    assert event["source"] == "/syncbucket/aggregator"
    assert event["subject"] == f"runs/{run_id}"
    assert event["datacontenttype"] == "application/json"
    assert event["time"].startswith("2026-02-01T09:00:00")
    assert RunSummary.model_validate(event["data"]).run_id == run_id  # data is the summary


def test_a_claimed_row_goes_to_one_claimer_until_its_lease_expires(session: Session) -> None:
    run_id = _completed_run(session)
    lease = timedelta(seconds=60)
    (first,) = outbox.pending_events(session, now=NOW, lease=lease)
    assert first.payload["run_id"] == run_id
    assert outbox.pending_events(session, now=NOW + timedelta(seconds=59), lease=lease) == []
    # The first claimer died without marking the row: after the lease, it goes out again.
    (again,) = outbox.pending_events(session, now=NOW + timedelta(seconds=61), lease=lease)
    assert again.id == first.id
    assert outbox.pending_events(session, now=NOW + timedelta(seconds=62)) == []


def test_released_claims_are_claimable_at_once(session: Session) -> None:
    _completed_run(session)
    (row,) = outbox.pending_events(session, now=NOW)
    outbox.release_claims(session, [row.id])
    assert [r.id for r in outbox.pending_events(session, now=NOW)] == [row.id]
