"""The outbox: events written in the transaction that changes the state they announce.

The relay reads :func:`pending_events`, publishes each as a CloudEvent with publisher
confirms, then :func:`mark_sent` in a new transaction. A crash between the two re-sends
the event with the same ``event_id`` (at-least-once; consumers dedupe on it).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.db.outbox import OutboxEvent


def write_event(
    session: Session, event_type: str, routing_key: str, payload: dict[str, Any], now: datetime
) -> OutboxEvent:
    """Add one event row; ``payload`` must already be JSON-safe."""
    row = OutboxEvent(
        event_id=str(uuid.uuid4()),
        event_type=event_type,
        routing_key=routing_key,
        payload=payload,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def pending_events(session: Session, limit: int = 100) -> list[OutboxEvent]:
    """Unsent events, oldest first.

    On PostgreSQL the rows are locked with SKIP LOCKED, so two relays never pick the
    same event while their transactions are open; SQLite serialises writers anyway.
    """
    query = (
        sa.select(OutboxEvent)
        .where(OutboxEvent.sent_at.is_(None))
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))


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
