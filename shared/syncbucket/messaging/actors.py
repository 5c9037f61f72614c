"""The three actors, declared on a broker the caller gives (never the global one).

| actor | queue | runs |
|---|---|---|
| ``sync_traces_item`` | ``portal.traces`` | ``handlers.work`` (a :class:`WorkActor`) |
| ``sync_itportal_item`` | ``portal.itportal`` | ``handlers.work`` |
| ``record_outcome`` | ``results`` | ``handlers.outcome`` (an :class:`OutcomeRecorder`) |

Every process declares all three, so any process can send to any of them; which ones it
*consumes* is chosen by the worker's queues (``dramatiq ... --queues portal.traces``). A
process without a handler for an actor (the aggregator has no work handler) refuses its
messages loudly instead of acknowledging them silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import dramatiq

from syncbucket.domain.portals import Portal
from syncbucket.messaging.broker import (
    ITPORTAL_ACTOR,
    ITPORTAL_QUEUE,
    OUTCOME_ACTOR,
    RESULTS_QUEUE,
    TRACES_ACTOR,
    TRACES_QUEUE,
)
from syncbucket.messaging.envelopes import MalformedMessage

Handler = Callable[[Mapping[str, Any]], None]
DEFAULT_ITEM_TIME_LIMIT_SECONDS = 300.0
# Outcomes fail only when the database does; keep trying for ~15 minutes of backoff.
OUTCOME_MAX_RETRIES = 10
OUTCOME_TIME_LIMIT_MS = 120_000


class NoHandler(RuntimeError):
    """This process declares the actor but does not run it."""


@dataclass(frozen=True)
class ActorHandlers:
    work: Handler | None = None
    outcome: Handler | None = None


@dataclass(frozen=True)
class Actors:
    sync_traces_item: dramatiq.Actor[..., None]
    sync_itportal_item: dramatiq.Actor[..., None]
    record_outcome: dramatiq.Actor[..., None]

    def for_portal(self, portal: Portal | str) -> dramatiq.Actor[..., None]:
        if Portal(portal) is Portal.TRACES:
            return self.sync_traces_item
        return self.sync_itportal_item


def declare_actors(
    broker: dramatiq.Broker,
    handlers: ActorHandlers,
    *,
    item_time_limit_seconds: float = DEFAULT_ITEM_TIME_LIMIT_SECONDS,
) -> Actors:
    work = handlers.work or _refuse("work items")
    outcome = handlers.outcome or _refuse("outcomes")
    portal_options: dict[str, Any] = {
        "time_limit": int(item_time_limit_seconds * 1000),
        "throws": (MalformedMessage,),
    }
    return Actors(
        sync_traces_item=_declare(broker, TRACES_ACTOR, TRACES_QUEUE, work, portal_options),
        sync_itportal_item=_declare(broker, ITPORTAL_ACTOR, ITPORTAL_QUEUE, work, portal_options),
        record_outcome=_declare(
            broker,
            OUTCOME_ACTOR,
            RESULTS_QUEUE,
            outcome,
            {
                "time_limit": OUTCOME_TIME_LIMIT_MS,
                "max_retries": OUTCOME_MAX_RETRIES,
                "throws": (MalformedMessage,),
            },
        ),
    )


def _declare(
    broker: dramatiq.Broker, name: str, queue: str, handler: Handler, options: dict[str, Any]
) -> dramatiq.Actor[..., None]:
    def body(**kwargs: Any) -> None:
        handler(kwargs)

    body.__name__ = body.__qualname__ = name
    decorate = dramatiq.actor(actor_name=name, queue_name=queue, broker=broker, **options)
    actor: dramatiq.Actor[..., None] = decorate(body)
    return actor


def _refuse(what: str) -> Handler:
    def refuse(kwargs: Mapping[str, Any]) -> None:
        raise NoHandler(f"this process does not handle {what}; check the worker's --queues")

    return refuse
