"""Dramatiq messages for our contracts: which queue and actor each one goes to.

Work and outcome messages are built here, from the queue and actor names alone, so the
coordinator can publish work without declaring (or importing) the portal actors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dramatiq
from pydantic import ValidationError

from syncbucket.contracts.messages import OutcomeMessage, WorkMessage
from syncbucket.messaging.broker import OUTCOME_ACTOR, RESULTS_QUEUE, portal_actor, portal_queue

# Message options the worker wrapper keeps across its own retries.
ATTEMPT_OPTION = "syncbucket_attempt"  # 1-based attempt number
FIRST_ATTEMPT_OPTION = "syncbucket_first_attempt_at"  # epoch seconds of the first attempt


class MalformedMessage(Exception):
    """A message that cannot be understood; it is logged and dead-lettered, never retried."""


def work_envelope(
    work: WorkMessage, options: Mapping[str, Any] | None = None
) -> dramatiq.Message[Any]:
    return dramatiq.Message(
        queue_name=portal_queue(work.portal),
        actor_name=portal_actor(work.portal),
        args=(),
        kwargs=work.model_dump(mode="json"),
        options=dict(options or {}),
    )


def outcome_envelope(outcome: OutcomeMessage) -> dramatiq.Message[Any]:
    return dramatiq.Message(
        queue_name=RESULTS_QUEUE,
        actor_name=OUTCOME_ACTOR,
        args=(),
        kwargs=outcome.model_dump(mode="json"),
        options={},
    )


def parse_work(kwargs: Mapping[str, Any]) -> WorkMessage:
    try:
        return WorkMessage.model_validate(dict(kwargs))
    except ValidationError as exc:
        raise MalformedMessage(f"not a WorkMessage: {describe(exc)}") from None


def parse_outcome(kwargs: Mapping[str, Any]) -> OutcomeMessage:
    try:
        return OutcomeMessage.model_validate(dict(kwargs))
    except ValidationError as exc:
        raise MalformedMessage(f"not an OutcomeMessage: {describe(exc)}") from None


def describe(exc: ValidationError) -> str:
    """Where and what, never the offending values (a stray field might hold a secret)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'message'}: {error['msg']}"
        for error in exc.errors()
    )
