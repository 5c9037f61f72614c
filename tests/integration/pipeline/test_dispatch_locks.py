"""On PostgreSQL, the dispatcher holds no run row lock while it waits on the broker."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import sqlalchemy as sa

from syncbucket.contracts.messages import WorkMessage
from syncbucket.db.runs import Run
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.runs import RunStatus
from syncbucket.pipeline.dispatcher import dispatch_tick
from tests.support.pipeline import NOW, add_clients, add_firm, run, start_run

pytestmark = pytest.mark.integration


class RunTouchingPublisher:
    """While 'publishing', updates the run's counters the way the aggregator does."""

    def __init__(self, sessions: SessionFactory, run_id: int) -> None:
        self.sessions = sessions
        self.run_id = run_id
        self.updated: int | None = None
        self.published: list[WorkMessage] = []

    def publish(self, messages: Sequence[WorkMessage]) -> None:
        with unit_of_work(self.sessions) as session:
            session.execute(sa.text("SET LOCAL lock_timeout = '2s'"))  # raises if locked
            result = session.execute(
                sa.update(Run)
                .where(Run.id == self.run_id)
                .values(items_succeeded=Run.items_succeeded),
                execution_options={"synchronize_session": False},
            )
            self.updated = int(result.rowcount)
        self.published.extend(messages)


def test_the_run_row_is_not_locked_during_the_publish(pg_sessions: SessionFactory) -> None:
    with unit_of_work(pg_sessions) as session:
        firm_id = add_firm(session)
        add_clients(session, firm_id, 3)
        run_id = start_run(session, firm_id, [ModuleKey.VERIFY_LDC]).run_id
    publisher = RunTouchingPublisher(pg_sessions, run_id)
    released = dispatch_tick(pg_sessions, publisher, {"traces": 10}, NOW)
    assert [(r.run_id, r.count) for r in released] == [(run_id, 3)]
    assert publisher.updated == 1  # the concurrent run UPDATE went through at once
    assert len(publisher.published) == 3
    with unit_of_work(pg_sessions) as session:
        started = run(session, run_id)
        assert (started.status, started.started_at) == (RunStatus.RUNNING, NOW)
