"""Table ``runs``: one press of Start, with the counters the aggregator keeps.

``items_succeeded + items_failed + items_skipped + items_cancelled == total_items`` means
done; completion is claimed with a conditional UPDATE on ``completed_at IS NULL``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from syncbucket.db.base import Base, JsonDoc, str_enum, utcnow
from syncbucket.domain.runs import RunSource, RunStatus


def _counter() -> Mapped[int]:
    return mapped_column(default=0, server_default="0")


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (
        sa.UniqueConstraint("firm_id", "idempotency_key", name="uq_runs_firm_id_idempotency_key"),
        sa.Index("ix_runs_status", "status"),
        sa.Index("ix_runs_firm_id_created_at", "firm_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(sa.ForeignKey("firms.id"))
    source: Mapped[RunSource] = mapped_column(str_enum(RunSource, "run_source"))
    status: Mapped[RunStatus] = mapped_column(
        str_enum(RunStatus, "run_status"), default=RunStatus.PENDING
    )
    modules: Mapped[list[str]] = mapped_column(JsonDoc)
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(200))
    priority: Mapped[int] = mapped_column(default=0, server_default="0")
    parent_run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("runs.id", ondelete="SET NULL"))
    requested_by: Mapped[str | None] = mapped_column(sa.String(200))
    total_items: Mapped[int] = _counter()
    # Distinct clients among the items, and how they were chosen ({"kind": "all" |
    # "filter" | "clients" | "retry", ...}): the run history shows "clients x modules"
    # without counting items (migration 0005).
    client_count: Mapped[int] = _counter()
    selection: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)
    items_succeeded: Mapped[int] = _counter()
    items_failed: Mapped[int] = _counter()
    items_skipped: Mapped[int] = _counter()
    items_cancelled: Mapped[int] = _counter()
    records_new: Mapped[int] = _counter()
    records_changed: Mapped[int] = _counter()
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=sa.func.now())
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancel_requested_at: Mapped[datetime | None]
    # The last run.progress event (docs/events.md); the first comes one interval after
    # the run started (migration 0006).
    progress_event_at: Mapped[datetime | None]

    @property
    def items_done(self) -> int:
        return self.items_succeeded + self.items_failed + self.items_skipped + self.items_cancelled

    def __repr__(self) -> str:
        return f"Run(id={self.id!r}, firm_id={self.firm_id!r}, status={self.status!r})"
