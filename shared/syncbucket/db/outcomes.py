"""Table ``outcomes``: the final word on an item, at most one per item.

``UNIQUE(item_id)`` makes a redelivered outcome message a no-op: the aggregator's insert
conflicts, its transaction rolls back, and no counter is bumped twice.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from syncbucket.db.base import Base, BigId, str_enum, utcnow
from syncbucket.domain.runs import ItemStatus


def _counter() -> Mapped[int]:
    return mapped_column(default=0, server_default="0")


class Outcome(Base):
    __tablename__ = "outcomes"
    __table_args__ = (sa.Index("ix_outcomes_run_id", "run_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        BigId, sa.ForeignKey("items.id", ondelete="CASCADE"), unique=True
    )
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("runs.id", ondelete="CASCADE"))
    status: Mapped[ItemStatus] = mapped_column(str_enum(ItemStatus, "outcome_status"))
    error_code: Mapped[str | None] = mapped_column(sa.String(64))
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    attempts: Mapped[int] = _counter()
    records_fetched: Mapped[int] = _counter()
    records_new: Mapped[int] = _counter()
    records_changed: Mapped[int] = _counter()
    records_unchanged: Mapped[int] = _counter()
    received_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=sa.func.now())

    def __repr__(self) -> str:
        return f"Outcome(item_id={self.item_id!r}, status={self.status!r})"
