"""Empty the RabbitMQ portal queues an integration test filled."""

from __future__ import annotations

import pika
import pika.exceptions

from syncbucket.messaging.broker import PORTAL_QUEUES


def purge_portal_queues(amqp_url: str) -> None:
    """Empty the portal queues (and their delay queues) this test filled."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        for queue in PORTAL_QUEUES.values():
            for name in (queue, f"{queue}.DQ"):
                channel = connection.channel()
                try:
                    channel.queue_purge(name)
                    channel.close()
                except pika.exceptions.ChannelClosedByBroker:
                    pass  # the queue does not exist
    finally:
        connection.close()
