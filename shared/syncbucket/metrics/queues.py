"""RabbitMQ queue depths for ``syncbucket_queue_messages``: a passive ``queue.declare`` each.

A passive declare answers the number of *ready* messages of an existing queue without
creating or changing it (messages a consumer holds unacknowledged, e.g. Dramatiq's
delayed retries it keeps in memory until their time, are not counted). A queue that does
not exist yet is reported as empty: RabbitMQ closes the channel on the 404, and the
next queue gets a fresh one. One connection, opened on first use and again after a
failure; used from one thread (the coordinator's metrics loop).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import ChannelClosedByBroker

from syncbucket.messaging.broker import with_url_defaults
from syncbucket.metrics.labels import portal_queues

NOT_FOUND = 404
SOCKET_TIMEOUT_SECONDS = 5.0


class QueueDepthProbe:
    def __init__(self, url: str, queues: Sequence[str] | None = None) -> None:
        self._params = pika.URLParameters(with_url_defaults(url))
        self._params.socket_timeout = SOCKET_TIMEOUT_SECONDS
        self._queues = tuple(queues) if queues is not None else portal_queues()
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None

    def depths(self) -> dict[str, int]:
        """Ready messages per queue; raises (and reconnects next time) if RabbitMQ fails."""
        try:
            return {queue: self._depth(queue) for queue in self._queues}
        except Exception:
            self.close()
            raise

    def _depth(self, queue: str) -> int:
        channel = self._open_channel()
        try:
            frame = channel.queue_declare(queue, passive=True)
        except ChannelClosedByBroker as exc:
            self._channel = None
            if exc.reply_code == NOT_FOUND:
                return 0
            raise
        return int(frame.method.message_count)

    def _open_channel(self) -> BlockingChannel:
        if self._connection is None or self._connection.is_closed:
            self._connection = pika.BlockingConnection(self._params)
            self._channel = None
        if self._channel is None or self._channel.is_closed:
            self._channel = self._connection.channel()
        return self._channel

    def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            with contextlib.suppress(Exception):  # a broken connection: nothing to add
                connection.close()
