"""The database probes behind the coordinator's and the aggregator's gauges."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from syncbucket.crypto import CredentialCipher
from syncbucket.db.base import utcnow
from syncbucket.db.items import Item
from syncbucket.db.runs import Run
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.runs import ItemStatus, RunStatus
from syncbucket.metrics.probes import (
    OutboxBacklog,
    ProgressTracker,
    RunsProgress,
    outbox_backlog,
    portal_backlog,
)
from syncbucket.pipeline.outbox import mark_sent, write_event
from syncbucket.pipeline.requests import RunRequest
from syncbucket.pipeline.runs import create_run
from tests.support import db as support_db
from tests.support.messaging_world import World

sqlite_template = support_db.sqlite_template
sqlite_url = support_db.sqlite_url
engine = support_db.engine
session_factory = support_db.session_factory
cipher = support_db.cipher

WINDOWS = {"traces": 48, "itportal": 8}


def pending_run(sessions: SessionFactory, cipher: CredentialCipher, clients: int) -> int:
    world = World.create(sessions, cipher)
    ids = [world.add_client()[0] for _ in range(clients)]
    request = RunRequest(world.firm_id, [ModuleKey.RETURN_SUMMARY], client_ids=ids)
    with unit_of_work(sessions) as session:
        return create_run(session, request).run_id


def test_backlog_counts_pending_and_in_flight_per_portal(
    session_factory: SessionFactory, cipher: CredentialCipher
) -> None:
    run_id = pending_run(session_factory, cipher, 3)
    with unit_of_work(session_factory) as session:
        first = session.scalars(sa.select(Item.id).where(Item.run_id == run_id)).first()
        session.execute(sa.update(Item).where(Item.id == first).values(status=ItemStatus.RUNNING))
    with session_factory() as session:
        backlog = {b.portal: b for b in portal_backlog(session, WINDOWS)}
    traces, itportal = backlog["traces"], backlog["itportal"]
    assert (traces.pending, traces.inflight, traces.window) == (2, 1, 48)
    assert (itportal.pending, itportal.inflight, itportal.window) == (0, 0, 8)


def test_progress_counts_from_the_start_then_from_each_finished_item(
    session_factory: SessionFactory, cipher: CredentialCipher
) -> None:
    run_id = pending_run(session_factory, cipher, 2)
    tracker = ProgressTracker()
    with session_factory() as session:
        created = session.get_one(Run, run_id).created_at
        assert tracker.observe(session, created + timedelta(seconds=30)) == RunsProgress(1, 30.0)
    with unit_of_work(session_factory) as session:
        session.execute(sa.update(Run).where(Run.id == run_id).values(items_succeeded=1))
    later = created + timedelta(seconds=100)
    with session_factory() as session:
        assert tracker.observe(session, later).max_seconds_since_progress == 0.0
        stalled = tracker.observe(session, later + timedelta(seconds=7))
        assert stalled.max_seconds_since_progress == 7.0
    with unit_of_work(session_factory) as session:
        session.execute(sa.update(Run).where(Run.id == run_id).values(status=RunStatus.COMPLETED))
    with session_factory() as session:
        assert tracker.observe(session, later) == RunsProgress(0, 0.0)


def test_outbox_backlog_is_the_unsent_rows_and_the_oldest_age(
    session_factory: SessionFactory,
) -> None:
    now = utcnow()
    with session_factory() as session:
        assert outbox_backlog(session, now) == OutboxBacklog(0, 0.0)
    with unit_of_work(session_factory) as session:
        old = write_event(session, "t", "k", {}, now - timedelta(seconds=90))
        write_event(session, "t", "k", {}, now - timedelta(seconds=10))
        sent = write_event(session, "t", "k", {}, now - timedelta(seconds=500))
        mark_sent(session, [sent.id], now)
        assert old.id
    with session_factory() as session:
        assert outbox_backlog(session, now) == OutboxBacklog(2, 90.0)
