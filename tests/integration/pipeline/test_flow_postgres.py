"""The pipeline's lifecycle on PostgreSQL: dispatch, reap, cancel, retry, events."""

from __future__ import annotations

from datetime import timedelta

import pytest

from syncbucket.config import Settings
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.runs import ItemStatus, RunStatus
from syncbucket.pipeline import events, outbox
from syncbucket.pipeline.aggregator import apply_outcome
from syncbucket.pipeline.dispatcher import dispatch_tick
from syncbucket.pipeline.queries import exception_rows, run_summary
from syncbucket.pipeline.reaper import reap
from syncbucket.pipeline.runs import cancel_run, retry_failed
from tests.support.pipeline import (
    NOW,
    FakePublisher,
    add_clients,
    add_firm,
    item,
    outcome,
    run,
    start_run,
)
from tests.support.records import challan

pytestmark = pytest.mark.integration

WINDOWS = {"traces": 1000, "itportal": 1000}


def test_dispatch_outcomes_reaper_retry_and_event(pg_sessions: SessionFactory) -> None:
    with unit_of_work(pg_sessions) as session:
        firm_id = add_firm(session)
        add_clients(session, firm_id, 2)
        run_id = start_run(session, firm_id, [ModuleKey.FETCH_CHALLANS]).run_id
    publisher = FakePublisher()
    dispatch_tick(pg_sessions, publisher, WINDOWS, NOW)
    first, second = (m.item_id for m in publisher.published)
    with unit_of_work(pg_sessions) as session:
        apply_outcome(session, outcome(first, run_id, records=[challan("00001")]), NOW)
    later = NOW + timedelta(hours=1)
    report = reap(pg_sessions, None, later, Settings(max_item_releases=0))
    assert (report.released, report.failed) == (0, 1)
    with unit_of_work(pg_sessions) as session:
        assert item(session, second).error_code == "timed_out"
        summary = run_summary(session, firm_id, run_id)
        assert (summary.status, summary.records_new) == (RunStatus.COMPLETED_WITH_ERRORS, 1)
        assert [row.item_id for row in exception_rows(session, firm_id, run_id)] == [second]
        retry = retry_failed(session, firm_id, run_id, None, later)
        assert retry.total_items == 1
        rows = [
            r
            for r in outbox.pending_events(session)
            if r.payload["run_id"] == run_id and r.event_type == events.RUN_COMPLETED_TYPE
        ]
        assert len(rows) == 1
        assert events.cloud_event(rows[0])["data"]["status"] == "completed_with_errors"
        assert outbox.mark_sent(session, [rows[0].id], later) == 1


def test_cancel_during_dispatch_on_postgres(pg_sessions: SessionFactory) -> None:
    with unit_of_work(pg_sessions) as session:
        firm_id = add_firm(session)
        add_clients(session, firm_id, 3)
        run_id = start_run(session, firm_id, [ModuleKey.VERIFY_LDC]).run_id
    publisher = FakePublisher()
    dispatch_tick(pg_sessions, publisher, {"traces": 1}, NOW)
    with unit_of_work(pg_sessions) as session:
        cancel_run(session, firm_id, run_id, NOW)
    released = dispatch_tick(pg_sessions, FakePublisher(), WINDOWS, NOW)
    assert run_id not in {release.run_id for release in released}
    (queued,) = (m.item_id for m in publisher.published)
    with unit_of_work(pg_sessions) as session:
        assert item(session, queued).status == ItemStatus.QUEUED
        apply_outcome(session, outcome(queued, run_id), NOW)
        assert run(session, run_id).status == RunStatus.CANCELLED
