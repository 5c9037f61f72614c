"""run.started, run.progress and client.changed: when they are written, and what they say."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.db.outbox import OutboxEvent
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.records import NoticeOrder, Record
from syncbucket.pipeline import events
from syncbucket.pipeline.aggregator import apply_outcome
from syncbucket.pipeline.change_events import MAX_HIGHLIGHTS
from syncbucket.pipeline.dispatcher import dispatch_tick
from tests.support.pipeline import (
    NOW,
    FakePublisher,
    add_clients,
    add_firm,
    item_ids,
    outcome,
    start_run,
)
from tests.support.records import challan, one_of_each

LDC = [ModuleKey.VERIFY_LDC]


def _events(session: Session, kind: events.EventKind) -> list[OutboxEvent]:
    query = sa.select(OutboxEvent).where(OutboxEvent.event_type == kind.type)
    return list(session.scalars(query.order_by(OutboxEvent.id)))


def test_the_first_release_announces_the_run_once(session_factory: SessionFactory) -> None:
    with unit_of_work(session_factory) as session:
        firm_id = add_firm(session)
        add_clients(session, firm_id, 30)
        run_id = start_run(session, firm_id, LDC).run_id
    windows = {"traces": 10, "itportal": 10}
    for tick in range(3):  # three releases of ten: one run.started
        dispatch_tick(session_factory, FakePublisher(), windows, NOW + timedelta(seconds=tick))
    with unit_of_work(session_factory) as session:
        (started,) = _events(session, events.RUN_STARTED)
        assert started.event_id == events.stable_event_id(f"syncbucket.run.started:{run_id}")
        assert started.routing_key == "run.started"
        assert started.payload["run_id"] == run_id
        assert started.payload["status"] == "running"
        assert started.payload["total_items"] == 30
        event = events.cloud_event(started)
        assert (event["source"], event["subject"]) == ("/syncbucket/coordinator", f"runs/{run_id}")


def test_progress_is_announced_at_each_quarter_never_per_item(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 8)
    run_id = start_run(session, firm_id, LDC).run_id
    hour = timedelta(hours=1)  # the interval never comes due: quarters alone
    for index, item_id in enumerate(item_ids(session, run_id)):
        status = "failed" if index == 0 else "succeeded"
        apply_outcome(
            session, outcome(item_id, run_id, status, error_code="x"), NOW, progress_every=hour
        )
    progress = _events(session, events.RUN_PROGRESS)
    assert [(e.payload["items_done"], e.payload["trigger"]) for e in progress] == [
        (2, "quarter"),
        (4, "quarter"),
        (6, "quarter"),
    ]
    half = progress[1].payload
    assert (half["percent_done"], half["failed"], half["succeeded"]) == (50.0, 1, 3)
    assert len(_events(session, events.RUN_COMPLETED)) == 1


def test_progress_comes_at_most_once_per_interval(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 200)
    run_id = start_run(session, firm_id, LDC).run_id
    every = timedelta(seconds=10)
    for second, item_id in enumerate(item_ids(session, run_id)):  # one outcome a second
        apply_outcome(
            session, outcome(item_id, run_id), NOW + timedelta(seconds=second), progress_every=every
        )
    interval = [
        e for e in _events(session, events.RUN_PROGRESS) if e.payload["trigger"] == "interval"
    ]
    times = [e.created_at for e in interval]
    assert len(times) >= 15  # 200 s of outcomes, one every 10 s (minus the quarters' seconds)
    assert all(later - earlier >= every for earlier, later in itertools.pairwise(times))


def test_new_records_announce_what_is_new_for_the_client(session: Session) -> None:
    firm_id = add_firm(session)
    (client_id,) = add_clients(session, firm_id, 1)
    run_id = start_run(session, firm_id, [ModuleKey.NOTICES_ORDERS]).run_id
    first = item_ids(session, run_id)[0]
    records = one_of_each()
    apply_outcome(session, outcome(first, run_id, records=records), NOW)
    (changed,) = _events(session, events.CLIENT_CHANGED)
    data = changed.payload
    assert (data["client_id"], data["run_id"], data["item_id"]) == (client_id, run_id, first)
    assert data["tan"].startswith("BLRA")
    assert (data["records_new"], data["records_changed"], data["truncated"]) == (6, 0, False)
    kinds = {h["kind"]: h for h in data["highlights"]}
    assert set(kinds) == {
        "statement",
        "paid_challan",
        "unconsumed_challan",
        "notice",
        "demand",
        "ldc",
    }
    notice = kinds["notice"]["summary"]
    assert notice["reference"] == "ITBA/COM/F/17/2025-26/1000000001(1)"  # the DIN
    assert (notice["section"], notice["response_due_on"]) == ("200A", "2025-08-31")
    assert kinds["demand"]["summary"]["net_payable"] == "1520.00"
    assert kinds["ldc"]["summary"]["verdict"] == "valid"


def test_a_changed_record_names_its_changed_fields(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 1)
    notice = next(r for r in one_of_each() if isinstance(r, NoticeOrder))
    first_run = start_run(session, firm_id, [ModuleKey.NOTICES_ORDERS]).run_id
    for item_id in item_ids(session, first_run):
        apply_outcome(session, outcome(item_id, first_run, records=[notice]), NOW)
    second_run = start_run(session, firm_id, [ModuleKey.NOTICES_ORDERS], idempotency_key="2").run_id
    closed = replace(notice, status="Closed")
    unchanged_too: list[Record] = [closed]
    for item_id in item_ids(session, second_run):
        apply_outcome(session, outcome(item_id, second_run, records=unchanged_too), NOW)
    latest = _events(session, events.CLIENT_CHANGED)[-1].payload
    assert (latest["run_id"], latest["records_new"], latest["records_changed"]) == (
        second_run,
        0,
        1,
    )
    (only,) = latest["highlights"]
    assert (only["change"], only["changed_fields"]) == ("changed", ["status"])
    assert only["summary"]["status"] == "Closed"


def test_unchanged_records_and_replayed_outcomes_announce_nothing(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 2)
    run_id = start_run(session, firm_id, [ModuleKey.FETCH_CHALLANS]).run_id
    first, second = item_ids(session, run_id)
    same = [challan("00001")]
    message = outcome(first, run_id, records=same)
    apply_outcome(session, message, NOW)
    apply_outcome(session, message, NOW)  # a redelivered outcome
    assert len(_events(session, events.CLIENT_CHANGED)) == 1
    apply_outcome(session, outcome(second, run_id), NOW)  # no records at all
    assert len(_events(session, events.CLIENT_CHANGED)) == 1


def test_a_big_batch_is_summarised_not_copied(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 1)
    run_id = start_run(session, firm_id, [ModuleKey.FETCH_CHALLANS]).run_id
    (item_id,) = item_ids(session, run_id)
    many = [challan(f"{n:05d}") for n in range(MAX_HIGHLIGHTS + 30)]
    apply_outcome(session, outcome(item_id, run_id, records=many), NOW)
    (changed,) = _events(session, events.CLIENT_CHANGED)
    data = changed.payload
    assert (data["records_new"], len(data["highlights"]), data["truncated"]) == (
        MAX_HIGHLIGHTS + 30,
        MAX_HIGHLIGHTS,
        True,
    )
