"""The composition root: settings -> engine, handler, consumer and outbox relay.

The consumer runs its own outbox relay beside the aggregator's (claims make two relays
safe, docs/architecture.md §7), so an answer goes out within a relay interval even when
no aggregator runs.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import sqlalchemy as sa

from syncbucket.config import ConfigError, Settings
from syncbucket.crypto import CredentialCipher
from syncbucket.db.engine import make_engine
from syncbucket.db.migrate import ensure_current
from syncbucket.db.session import make_session_factory
from syncbucket.intake.handler import RequestHandler
from syncbucket.messaging.publishers import RabbitEventPublisher
from syncbucket.messaging.relay import OutboxRelay
from syncbucket_requests.consumer import RequestConsumer

log = logging.getLogger("syncbucket.requests")


@dataclass
class RequestService:
    engine: sa.Engine
    consumer: RequestConsumer
    relay: OutboxRelay
    publisher: RabbitEventPublisher
    thread: threading.Thread | None = field(default=None)

    def start(self) -> None:
        self.relay.start()
        self.thread = threading.Thread(target=self.consumer.run, name="requests", daemon=True)
        self.thread.start()

    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the request in hand, then a last relay pass, then close everything."""
        self.consumer.stop()
        if self.thread is not None:
            self.thread.join(timeout)
        self.relay.stop()
        try:
            self.relay.drain()
        except Exception:
            log.exception("last outbox relay pass failed; the answers go out on next start")
        self.publisher.close()
        self.engine.dispose()


def bootstrap(settings: Settings) -> RequestService:
    if settings.broker_url is None:
        raise ConfigError(
            "SYNCBUCKET_BROKER_URL is not set: the request consumer reads sync requests from "
            "RabbitMQ (amqp://user:password@host:port/vhost)"
        )
    cipher = CredentialCipher(settings.require_secret_key())
    engine = make_engine(settings.database_url)
    ensure_current(engine)
    sessions = make_session_factory(engine)
    handler = RequestHandler(sessions, cipher, max_bytes=settings.request_max_bytes)
    consumer = RequestConsumer(settings.broker_url, handler, prefetch=settings.request_prefetch)
    publisher = RabbitEventPublisher(settings.broker_url)
    relay = OutboxRelay(sessions, publisher)
    return RequestService(engine, consumer, relay, publisher)
