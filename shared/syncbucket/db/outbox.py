"""Table ``outbox``: events written in the same transaction as the state they announce.

The relay claims rows with ``sent_at IS NULL`` (``claimed_until``: a lease, so two relays
never publish the same row at once), publishes them (publisher confirms), then sets
``sent_at``; consumers dedupe on ``event_id`` (the CloudEvents ``id``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from syncbucket.db.base import Base, BigId, utcnow


class OutboxEvent(Base):
    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_sent_at", "sent_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.String(36), unique=True)
    event_type: Mapped[str] = mapped_column(sa.String(200))
    routing_key: Mapped[str] = mapped_column(sa.String(200))
    payload: Mapped[dict[str, Any]]
    # CloudEvents attributes beyond those derived from the payload (e.g. the
    # ``correlationid`` of an answer to a sync request); migration 0006.
    attributes: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=sa.func.now())
    sent_at: Mapped[datetime | None]
    publish_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    claimed_until: Mapped[datetime | None]  # a relay's lease on the row (unsent rows only)

    def __repr__(self) -> str:
        return f"OutboxEvent(event_id={self.event_id!r}, type={self.event_type!r})"
