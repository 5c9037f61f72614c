"""The outbox: events written in the transaction that changes the state they announce.

The relay claims a batch with :func:`pending_events` (a lease on each row, committed at
once), publishes each as a CloudEvent with publisher confirms, then :func:`mark_sent` in
a new transaction; rows it could not publish it hands back with :func:`release_claims`.
While a lease runs, no other relay gets the row. A crash between claim and mark re-sends
the event with the same ``event_id`` once the lease expires (at-least-once; consumers
dedupe on it).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.db.base import utcnow
from syncbucket.db.outbox import OutboxEvent
from syncbucket.db.upsert import insert_for

#: How long a claim keeps other relays off a row: far longer than publishing a batch.
CLAIM_LEASE = timedelta(seconds=60)


def write_event(
    session: Session,
    event_type: str,
    routing_key: str,
    payload: dict[str, Any],
    now: datetime,
    *,
    attributes: dict[str, Any] | None = None,
) -> OutboxEvent:
    """Add one event row with a fresh id; ``payload`` must already be JSON-safe."""
    row = OutboxEvent(
        event_id=str(uuid.uuid4()),
        event_type=event_type,
        routing_key=routing_key,
        payload=payload,
        attributes=attributes,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def write_once(
    session: Session,
    event_id: str,
    event_type: str,
    routing_key: str,
    payload: dict[str, Any],
    now: datetime,
    *,
    attributes: dict[str, Any] | None = None,
    send_again: bool = False,
) -> bool:
    """Add the event ``event_id`` unless it exists; ``True`` if it is now queued to send.

    For facts that can be written twice (a redelivered request, a progress step two
    outcomes race for): the unique ``event_id`` keeps one row. ``send_again`` re-queues an
    existing row for the relay instead -- the same event, same id, announced once more
    (a sync request delivered again is answered again; consumers dedupe on ``id``).
    Without it an existing row is left alone and ``False`` comes back.
    """
    values = {
        "event_id": event_id,
        "event_type": event_type,
        "routing_key": routing_key,
        "payload": payload,
        "attributes": attributes,
        "created_at": now,
    }
    insert = insert_for(session, OutboxEvent).values(values)
    if send_again:
        statement = insert.on_conflict_do_update(
            index_elements=["event_id"], set_={"sent_at": None, "claimed_until": None}
        )
        session.execute(statement)
        return True
    added = session.execute(
        insert.on_conflict_do_nothing(index_elements=["event_id"]).returning(OutboxEvent.id)
    ).scalar_one_or_none()
    return added is not None


def pending_events(
    session: Session,
    limit: int = 100,
    *,
    now: datetime | None = None,
    lease: timedelta = CLAIM_LEASE,
) -> list[OutboxEvent]:
    """Claim up to ``limit`` unsent, unclaimed (or lease-expired) events, oldest first.

    One ``UPDATE ... SET claimed_until = now + lease WHERE id IN (SELECT ... FOR UPDATE
    SKIP LOCKED) RETURNING``: on PostgreSQL concurrent claimers skip each other's rows
    (and re-check the lease on rows committed meanwhile); SQLite runs the statement
    alone. Only rows this call claimed come back; commit to make the claim visible.
    """
    moment = now or utcnow()
    claimable = (
        sa.select(OutboxEvent.id)
        .where(
            OutboxEvent.sent_at.is_(None),
            sa.or_(OutboxEvent.claimed_until.is_(None), OutboxEvent.claimed_until < moment),
        )
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = session.scalars(
        sa.update(OutboxEvent)
        .where(OutboxEvent.id.in_(claimable))
        .values(claimed_until=moment + lease)
        .returning(OutboxEvent),
        execution_options={"synchronize_session": False},
    )
    return sorted(claimed, key=lambda row: row.id)


def release_claims(session: Session, ids: Sequence[int]) -> None:
    """Hand claimed rows back at once (e.g. after a failed publish): any relay may retry."""
    if not ids:
        return
    session.execute(
        sa.update(OutboxEvent)
        .where(OutboxEvent.id.in_(list(ids)), OutboxEvent.sent_at.is_(None))
        .values(claimed_until=None),
        execution_options={"synchronize_session": False},
    )


def mark_sent(session: Session, ids: Sequence[int], now: datetime) -> int:
    """Mark rows (by outbox ``id``) sent; returns how many were still unsent."""
    if not ids:
        return 0
    result = session.execute(
        sa.update(OutboxEvent)
        .where(OutboxEvent.id.in_(list(ids)), OutboxEvent.sent_at.is_(None))
        .values(sent_at=now),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def note_attempt(session: Session, ids: Sequence[int]) -> None:
    """Count a publish attempt (e.g. before publishing) so stuck events are visible."""
    if not ids:
        return
    session.execute(
        sa.update(OutboxEvent)
        .where(OutboxEvent.id.in_(list(ids)))
        .values(publish_attempts=OutboxEvent.publish_attempts + 1),
        execution_options={"synchronize_session": False},
    )
