"""``bootstrap()``: wire the aggregator; ``Aggregator.start/stop`` run and end it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

import dramatiq
import sqlalchemy as sa

from syncbucket.config import Settings, load_settings
from syncbucket.db.engine import make_engine
from syncbucket.db.migrate import ensure_current
from syncbucket.db.session import make_session_factory
from syncbucket.messaging.actors import ActorHandlers, declare_actors
from syncbucket.messaging.broker import RESULTS_QUEUE, make_broker
from syncbucket.messaging.publishers import (
    EventPublisher,
    MemoryEventPublisher,
    RabbitEventPublisher,
)
from syncbucket.messaging.relay import OutboxRelay
from syncbucket.messaging.runtime import start_worker
from syncbucket.messaging.worker_actor import OutcomeRecorder

log = logging.getLogger("syncbucket.aggregator")

WORKER_STOP_TIMEOUT_MS = 30_000


@dataclass
class Aggregator:
    settings: Settings
    engine: sa.Engine
    broker: dramatiq.Broker
    publisher: EventPublisher
    relay: OutboxRelay
    worker: dramatiq.Worker | None = field(default=None)

    def start(self) -> None:
        self.worker = start_worker(
            self.broker, queues={RESULTS_QUEUE}, threads=self.settings.aggregator_threads
        )
        self.relay.start()
        log.info(
            "aggregator consuming %r with %d threads; outbox relay running",
            RESULTS_QUEUE,
            self.settings.aggregator_threads,
        )

    def stop(self) -> None:
        """Finish in-flight outcomes, then a last relay pass, then close connections."""
        if self.worker is not None:
            self.worker.stop(timeout=WORKER_STOP_TIMEOUT_MS)
            self.worker = None
        self.relay.stop()
        try:
            self.relay.drain()
        except Exception:
            log.exception("last outbox relay pass failed; the events go out on next start")
        self.publisher.close()
        self.broker.close()
        self.engine.dispose()


def bootstrap(settings: Settings | None = None) -> Aggregator:
    settings = settings or load_settings()
    engine = make_engine(settings.database_url)
    ensure_current(engine)
    sessions = make_session_factory(engine)
    broker = make_broker(settings)
    dramatiq.set_broker(broker)
    declare_actors(
        broker,
        ActorHandlers(
            outcome=OutcomeRecorder(
                sessions, progress_every=timedelta(seconds=settings.progress_event_seconds)
            )
        ),
        item_time_limit_seconds=settings.item_time_limit_seconds,
    )
    publisher: EventPublisher
    if settings.broker_url:
        publisher = RabbitEventPublisher(settings.broker_url)
    else:
        log.warning("SYNCBUCKET_BROKER_URL is not set: events are kept in memory only")
        publisher = MemoryEventPublisher()
    relay = OutboxRelay(sessions, publisher)
    return Aggregator(settings, engine, broker, publisher, relay)
