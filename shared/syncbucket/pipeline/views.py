"""What the read side returns: frozen pydantic models, JSON-ready with ``to_dict()``.

Pydantic rather than dataclasses so that the API can use them as response models and
``docs/events.md`` can show ``RunSummary.model_json_schema()`` as the event's schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from syncbucket.domain.runs import ItemStatus


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe values only (datetimes as ISO strings): what events and APIs carry."""
        return self.model_dump(mode="json")


class StatusCounts(_View):
    """Items per status; every status present, zero when none."""

    pending: int = 0
    queued: int = 0
    running: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: int = 0

    @classmethod
    def from_pairs(cls, pairs: dict[str, int]) -> StatusCounts:
        return cls(**{status.value: pairs.get(status.value, 0) for status in ItemStatus})


class RunSummary(_View):
    """A run as a person and an upstream system see it; the ``run.completed`` data."""

    run_id: int
    firm_id: int
    status: str = Field(
        description="pending | running | completed | completed_with_errors | cancelled"
    )
    source: str = Field(description="ui | api | cli | event | schedule | retry")
    modules: list[str]
    priority: int
    parent_run_id: int | None
    requested_by: str | None
    idempotency_key: str | None
    total_items: int
    items_done: int
    counts: StatusCounts
    by_module: dict[str, StatusCounts] = Field(description="module key -> items per status")
    by_portal: dict[str, StatusCounts] = Field(description="portal -> items per status")
    records_new: int
    records_changed: int
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    cancel_requested_at: datetime | None
    duration_seconds: float | None = Field(description="started_at to completed_at")


class RunListEntry(_View):
    run_id: int
    status: str
    source: str
    modules: list[str]
    priority: int
    parent_run_id: int | None
    requested_by: str | None
    total_items: int
    client_count: int = Field(description="distinct clients among the items")
    items_succeeded: int
    items_failed: int
    items_skipped: int
    items_cancelled: int
    records_new: int
    records_changed: int
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None


class RunPage(_View):
    runs: list[RunListEntry]
    next_before_id: int | None = Field(description="pass as before_id for the next page")


class ItemView(_View):
    item_id: int
    run_id: int
    client_id: int
    client_name: str
    tan: str
    module: str
    portal: str
    status: str
    attempts: int
    error_code: str | None
    error_message: str | None
    records_fetched: int
    records_new: int
    records_changed: int
    records_unchanged: int
    queued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None


class ItemPage(_View):
    items: list[ItemView]
    next_after_id: int | None = Field(description="pass as after_id for the next page")


class ExceptionRow(_View):
    """One failed item, as the exception report lists it."""

    item_id: int
    client_id: int
    client_name: str
    tan: str
    module: str
    portal: str
    error_code: str | None
    error_message: str | None
    attempts: int
    finished_at: datetime | None = None
