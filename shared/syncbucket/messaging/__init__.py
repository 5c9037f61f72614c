"""Dramatiq and RabbitMQ wiring: the broker, the actors, the publishers, the outbox relay.

:mod:`.broker` builds the broker (RabbitMQ with publisher confirms, or the embedded
``StubBroker``) and names the queues; :mod:`.actors` declares the three actors on a given
broker; :mod:`.worker_actor` is what they run; :mod:`.publishers` sends work messages and
CloudEvents; :mod:`.relay` carries outbox rows to the events exchange. Services compose
these in their ``bootstrap()``; nothing here sets Dramatiq's global broker.
"""
