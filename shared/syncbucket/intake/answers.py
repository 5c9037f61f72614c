"""The one answer every sync request gets: ``syncbucket.sync.accepted`` or ``.rejected``.

Written to the outbox in the transaction that decides the request (for an accepted one,
the transaction that commits its run), so an answer goes out exactly when the decision
stands. The answer's id is stable for the request -- a name made of its source, id and
the digest of its exact bytes -- so a redelivered request re-sends the same answer (same
id: consumers dedupe on it) instead of writing a second one, and a forged request that
borrows a genuine one's id cannot take over the genuine one's answer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from syncbucket.intake.rejections import RequestIdentity, RequestRejected
from syncbucket.pipeline import events, outbox

CORRELATION_ATTRIBUTE = "correlationid"


@dataclass(frozen=True)
class Accepted:
    run_id: int
    total_items: int
    created: bool  # False: the idempotency key named an existing run
    idempotency_key: str


def _attributes(identity: RequestIdentity) -> dict[str, Any] | None:
    if identity.event_id is None:
        return None
    return {CORRELATION_ATTRIBUTE: identity.event_id}


def _answer_id(kind: events.EventKind, identity: RequestIdentity, body: bytes) -> str:
    digest = hashlib.sha256(body).hexdigest()
    return events.stable_event_id(f"{kind.type}:{identity.source}:{identity.event_id}:{digest}")


def write_accepted(
    session: Session, identity: RequestIdentity, body: bytes, accepted: Accepted, now: datetime
) -> None:
    payload = {
        "request_id": identity.event_id,
        "request_source": identity.source,
        "firm_id": identity.firm_id,
        "run_id": accepted.run_id,
        "total_items": accepted.total_items,
        "created": accepted.created,
        "idempotency_key": accepted.idempotency_key,
    }
    _write(session, events.SYNC_ACCEPTED, identity, body, payload, now)


def write_rejected(
    session: Session, rejection: RequestRejected, body: bytes, now: datetime
) -> None:
    identity = rejection.identity
    payload = {
        "request_id": identity.event_id,
        "request_source": identity.source,
        "firm_id": identity.firm_id,
        "reason": rejection.reason,
        "message": rejection.message,
        "details": rejection.details,
    }
    _write(session, events.SYNC_REJECTED, identity, body, payload, now)


def _write(
    session: Session,
    kind: events.EventKind,
    identity: RequestIdentity,
    body: bytes,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    """The answer row; a request answered before gets that same row queued again."""
    outbox.write_once(
        session,
        _answer_id(kind, identity, body),
        kind.type,
        kind.routing_key,
        payload,
        now,
        attributes=_attributes(identity),
        send_again=True,
    )
