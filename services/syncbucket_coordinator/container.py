"""The composition root: ``bootstrap(settings)`` wires engine, sessions, broker and loops.

Nothing here is global: the HTTP app receives the :class:`Coordinator` it serves, and
tests build one with fakes (``bootstrap(settings, engine=..., publisher=...)``).

Coordinators run as several replicas (docs/architecture.md §18): the API and the
metrics loop run in every one; the loops in ``leader_only`` run in the one holding the
leader lease, under :class:`~syncbucket_coordinator.leadership.Leadership`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from syncbucket.config import ConfigError, Settings
from syncbucket.coordination.lease import LeaderLease
from syncbucket.db.base import utcnow
from syncbucket.db.engine import make_engine
from syncbucket.db.migrate import ensure_current
from syncbucket.db.session import SessionFactory, make_session_factory
from syncbucket.messaging.broker import make_broker
from syncbucket.messaging.publishers import DramatiqWorkPublisher
from syncbucket.pipeline.dispatcher import WorkPublisher
from syncbucket_coordinator.leadership import Leadership
from syncbucket_coordinator.loops import (
    Clock,
    PeriodicLoop,
    dispatcher_loop,
    metrics_loop,
    reaper_loop,
    scheduler_loop,
)
from syncbucket_coordinator.observe import observer

logger = logging.getLogger(__name__)

#: The row in ``leases`` the coordinator replicas contend for.
LEADER_LEASE_NAME = "coordinator"
LEASE_CONNECT_TIMEOUT_SECONDS = 5


@dataclass
class Coordinator:
    """Everything the coordinator's API and loops use; ``close()`` releases it all.

    ``loops`` lists every loop (``/healthz`` shows them all); those of ``leadership``
    are started and stopped by it, the others run from ``start()`` to ``stop_loops()``.
    """

    settings: Settings
    engine: sa.Engine
    sessions: SessionFactory
    loops: tuple[PeriodicLoop, ...]
    leadership: Leadership
    clock: Clock = utcnow
    closers: list[Callable[[], None]] = field(default_factory=list)
    started: bool = False

    @property
    def everywhere_loops(self) -> tuple[PeriodicLoop, ...]:
        """The loops every replica runs, leader or not."""
        managed = self.leadership.loops
        return tuple(loop for loop in self.loops if all(loop is not m for m in managed))

    def start(self) -> None:
        """Contend for the lease (leading at once if it is free), then start the loops
        every replica runs. The HTTP app works without any of them."""
        self.started = True
        self.leadership.start()
        for loop in self.everywhere_loops:
            loop.start()

    def stop_loops(self) -> None:
        """Stop everything; a leader stops its duties, then releases the lease."""
        self.leadership.stop()
        for loop in self.everywhere_loops:
            loop.stop()
        self.started = False

    def close(self) -> None:
        """Stop the loops, then release broker connections and the engine (in that order)."""
        self.stop_loops()
        for closer in reversed(self.closers):
            try:
                closer()
            except Exception:
                logger.exception("error while shutting down")
        self.engine.dispose()


def bootstrap(
    settings: Settings,
    *,
    engine: sa.Engine | None = None,
    publisher: WorkPublisher | None = None,
    clock: Clock = utcnow,
) -> Coordinator:
    """Wire a coordinator; the database must be at the current migration.

    Without ``publisher`` the broker of ``settings`` is used (RabbitMQ when
    ``SYNCBUCKET_BROKER_URL`` is set, else the embedded stub broker).
    """
    db = engine if engine is not None else make_engine(settings.database_url)
    ensure_current(db)
    sessions = make_session_factory(db)
    closers: list[Callable[[], None]] = []
    if publisher is None:
        publisher, close_broker = _broker_publisher(settings)
        closers.append(close_broker)
    gauges = observer(settings, sessions, clock)
    closers.append(gauges.close)
    lease_engine = _lease_engine(db)
    if lease_engine is not db:
        closers.append(lease_engine.dispose)
    lease = LeaderLease(
        make_session_factory(lease_engine),
        name=LEADER_LEASE_NAME,
        ttl_seconds=settings.leader_lease_seconds,
    )
    # The duties that must run in one coordinator at a time; a new one is one more line.
    leader_only = (
        dispatcher_loop(settings, sessions, publisher, clock, guard=lease.guard),
        reaper_loop(settings, sessions, clock),
        scheduler_loop(settings, sessions, clock),
    )
    leadership = Leadership(lease, leader_only)
    loops = (*leader_only, metrics_loop(gauges), leadership.loop)
    return Coordinator(settings, db, sessions, loops, leadership, clock, closers)


def _lease_engine(db: sa.Engine) -> sa.Engine:
    """A one-connection pool of its own for the lease renewals on PostgreSQL.

    A renewal waiting for a pooled connection behind busy web requests would lose the
    lease for nothing; one more connection per replica buys that away. The connect
    timeout keeps an unreachable server from hanging the lease loop for minutes. SQLite
    (one process, maybe an in-memory database) keeps the one engine.
    """
    if db.dialect.name != "postgresql":
        return db
    return make_engine(
        db.url.render_as_string(hide_password=False),
        pool_size=1,
        max_overflow=1,
        connect_args={"connect_timeout": LEASE_CONNECT_TIMEOUT_SECONDS},
    )


def _broker_publisher(settings: Settings) -> tuple[WorkPublisher, Callable[[], None]]:
    if settings.broker_url is None:
        # Items released into an in-process broker reach no worker pool: the run would sit
        # "in flight" for ever. The embedded footprint passes its own publisher instead.
        raise ConfigError(
            "SYNCBUCKET_BROKER_URL is not set: the coordinator would release items into an "
            "in-process broker no worker pool can read. Set it to the RabbitMQ the pools use "
            "(make stack does), or run everything in one process with `syncbucket demo`"
        )
    broker = make_broker(settings)
    return DramatiqWorkPublisher(broker), broker.close
