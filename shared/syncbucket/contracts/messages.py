"""Messages between the coordinator, the portal worker pools and the aggregator.

They carry ids and small data only (never credentials) and a schema version ``v`` so a
pool can refuse, by name, a message it does not understand instead of misreading it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1
ItemOutcomeStatus = Literal["succeeded", "failed", "skipped"]


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    v: Literal[1] = 1  # SCHEMA_VERSION


class WorkMessage(_Message):
    """Fetch one module part for one client: sent by the dispatcher to ``portal.<portal>``."""

    item_id: int
    run_id: int
    firm_id: int
    client_id: int
    module: str
    portal: str


class OutcomeMessage(_Message):
    """The final word on one item, sent exactly once per attempt chain to ``results``."""

    item_id: int
    run_id: int
    status: ItemOutcomeStatus
    attempts: int = Field(ge=0)
    error_code: str | None = None
    error_message: str | None = None
    records: list[dict[str, Any]] = Field(default_factory=list)
    duration_seconds: float = 0.0
