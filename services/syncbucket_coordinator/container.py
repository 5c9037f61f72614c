"""The composition root: ``bootstrap(settings)`` wires engine, sessions, broker and loops.

Nothing here is global: the HTTP app receives the :class:`Coordinator` it serves, and
tests build one with fakes (``bootstrap(settings, engine=..., publisher=...)``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from syncbucket.config import Settings
from syncbucket.db.base import utcnow
from syncbucket.db.engine import make_engine
from syncbucket.db.migrate import ensure_current
from syncbucket.db.session import SessionFactory, make_session_factory
from syncbucket.messaging.broker import make_broker
from syncbucket.messaging.publishers import DramatiqWorkPublisher
from syncbucket.pipeline.dispatcher import WorkPublisher
from syncbucket_coordinator.loops import (
    Clock,
    PeriodicLoop,
    dispatcher_loop,
    metrics_loop,
    reaper_loop,
)
from syncbucket_coordinator.observe import observer

logger = logging.getLogger(__name__)


@dataclass
class Coordinator:
    """Everything the coordinator's API and loops use; ``close()`` releases it all."""

    settings: Settings
    engine: sa.Engine
    sessions: SessionFactory
    loops: tuple[PeriodicLoop, ...]
    clock: Clock = utcnow
    closers: list[Callable[[], None]] = field(default_factory=list)
    started: bool = False

    def start(self) -> None:
        """Start the background loops (the HTTP app works without them)."""
        self.started = True
        for loop in self.loops:
            loop.start()

    def stop_loops(self) -> None:
        for loop in self.loops:
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
    loops = (
        dispatcher_loop(settings, sessions, publisher, clock),
        reaper_loop(settings, sessions, clock),
        metrics_loop(gauges),
    )
    return Coordinator(settings, db, sessions, loops, clock, closers)


def _broker_publisher(settings: Settings) -> tuple[WorkPublisher, Callable[[], None]]:
    if settings.broker_url is None:
        logger.warning(
            "SYNCBUCKET_BROKER_URL is unset: work goes to an in-process stub broker that no "
            "worker of another process can consume; set it to serve real worker pools"
        )
    broker = make_broker(settings)
    return DramatiqWorkPublisher(broker), broker.close
