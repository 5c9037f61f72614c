"""The RabbitMQ objects of the request path, declared the same by every party.

- ``syncbucket.requests``: durable topic exchange upstream systems publish to;
- ``syncbucket.requests`` queue (durable), bound with ``sync.requested``: the request
  consumers share it, RabbitMQ hands each request to one of them;
- ``syncbucket.requests.dead`` queue (durable): every rejected request, as it came,
  with ``x-syncbucket-reason`` / ``x-syncbucket-message`` headers, for people to read
  and replay;
- ``syncbucket.events``: durable topic exchange every answer and event goes out on.
"""

from __future__ import annotations

from typing import Any

from syncbucket.pipeline.events import (
    EXCHANGE,
    REQUESTS_DEAD_QUEUE,
    REQUESTS_EXCHANGE,
    REQUESTS_QUEUE,
    SYNC_REQUESTED_ROUTING_KEY,
)


def declare_exchanges(channel: Any) -> None:
    channel.exchange_declare(REQUESTS_EXCHANGE, exchange_type="topic", durable=True)
    channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)


def declare_consumer_side(channel: Any) -> None:
    declare_exchanges(channel)
    channel.queue_declare(REQUESTS_QUEUE, durable=True)
    channel.queue_bind(REQUESTS_QUEUE, REQUESTS_EXCHANGE, routing_key=SYNC_REQUESTED_ROUTING_KEY)
    channel.queue_declare(REQUESTS_DEAD_QUEUE, durable=True)
