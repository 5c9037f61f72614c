"""The Dramatiq broker, its middleware and the names of queues and actors.

Middleware is chosen explicitly (no Callbacks, Pipelines or GroupCallbacks: run completion
is tracked in SQL, docs/architecture.md §1):

- ``AgeLimit`` without a default age: never drop an item's message for being old (a
  maintenance deferral may legitimately keep one waiting for an hour);
- ``TimeLimit``: actors set their own limit (portal actors: ``item_time_limit_seconds``);
- ``ShutdownNotifications``: available to actors that opt in (ours do not: a stopping
  worker lets its current items finish);
- ``Retries``: only a safety net. The portal retry policy is applied by the actor wrapper
  itself (:mod:`.worker_actor`), which re-sends a delayed copy of the message with an
  explicit attempt counter. ``Retries`` re-runs a message only when the wrapper itself
  failed (e.g. the broker or database was unreachable while reporting), with backoff
  between ``retry_min_backoff`` and ``retry_max_backoff``;
- ``CurrentMessage``: the wrapper reads the attempt counter from the message options;
- :class:`QueuePrefetch`: small prefetch (see below).

Prefetch. Dramatiq's ``Worker`` sets the RabbitMQ ``basic.qos`` prefetch of each queue
consumer to ``worker_threads * 2`` (``Worker.queue_prefetch``; the
``dramatiq_queue_prefetch`` environment variable, read once when ``dramatiq.worker`` is
imported, overrides it for every worker). A portal item holds a thread for seconds to
minutes, so messages prefetched beyond the thread count only sit in one process while
another idles, and they stay unacknowledged. ``QueuePrefetch`` sets it to
``worker_threads * PREFETCH_PER_THREAD`` (= one message per thread) before the consumers
start, unless ``dramatiq_queue_prefetch`` is set explicitly. Delay queues keep Dramatiq's
``worker_threads * 1000``: delayed retries must all be held until their eta.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    CurrentMessage,
    Middleware,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

from syncbucket.config import Settings
from syncbucket.domain.portals import Portal

TRACES_QUEUE = "portal.traces"
ITPORTAL_QUEUE = "portal.itportal"
RESULTS_QUEUE = "results"
PORTAL_QUEUES: dict[Portal, str] = {Portal.TRACES: TRACES_QUEUE, Portal.ITPORTAL: ITPORTAL_QUEUE}

TRACES_ACTOR = "sync_traces_item"
ITPORTAL_ACTOR = "sync_itportal_item"
OUTCOME_ACTOR = "record_outcome"
PORTAL_ACTORS: dict[Portal, str] = {Portal.TRACES: TRACES_ACTOR, Portal.ITPORTAL: ITPORTAL_ACTOR}

PREFETCH_PER_THREAD = 1
PREFETCH_ENV = "dramatiq_queue_prefetch"
# Connection defaults added to the broker URL unless it sets them: a publisher blocked by
# a RabbitMQ resource alarm fails after a minute instead of hanging forever.
URL_DEFAULTS = {"blocked_connection_timeout": "60", "connection_attempts": "3", "retry_delay": "2"}


def portal_queue(portal: Portal | str) -> str:
    """``portal.<portal>``; an unknown portal raises ``ValueError`` naming it."""
    return PORTAL_QUEUES[Portal(portal)]


def portal_actor(portal: Portal | str) -> str:
    return PORTAL_ACTORS[Portal(portal)]


class QueuePrefetch(Middleware):
    """Prefetch ``worker_threads * per_thread`` messages per queue consumer."""

    def __init__(self, per_thread: int = PREFETCH_PER_THREAD) -> None:
        self.per_thread = per_thread

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if os.getenv(PREFETCH_ENV):
            return  # the operator's explicit choice, already applied by Dramatiq
        worker.queue_prefetch = max(1, worker.worker_threads * self.per_thread)


def middleware(settings: Settings) -> list[Any]:
    return [
        AgeLimit(),
        TimeLimit(time_limit=_ms(settings.item_time_limit_seconds)),
        ShutdownNotifications(),
        Retries(
            max_retries=settings.max_attempts,
            min_backoff=_ms(settings.retry_min_backoff_seconds),
            max_backoff=_ms(
                max(settings.retry_max_backoff_seconds, settings.retry_min_backoff_seconds)
            ),
        ),
        CurrentMessage(),
        QueuePrefetch(),
    ]


def make_broker(settings: Settings) -> dramatiq.Broker:
    """RabbitMQ with publisher confirms when ``broker_url`` is set, else the stub broker."""
    if settings.broker_url:
        return RabbitmqBroker(
            url=with_url_defaults(settings.broker_url),
            confirm_delivery=True,
            middleware=middleware(settings),
        )
    return StubBroker(middleware=middleware(settings))


def with_url_defaults(url: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    for key, value in URL_DEFAULTS.items():
        query.setdefault(key, value)
    return urlunsplit(parts._replace(query=urlencode(query)))


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))
