"""The vocabulary of a run and its items: where a run came from and the states they pass.

run:  pending -> running -> completed | completed_with_errors | cancelled
item: pending -> queued -> running -> succeeded | failed | skipped | cancelled
"""

from __future__ import annotations

from enum import StrEnum


class RunSource(StrEnum):
    UI = "ui"
    API = "api"
    CLI = "cli"
    EVENT = "event"
    SCHEDULE = "schedule"
    RETRY = "retry"


class RunStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    CANCELLED = "cancelled"


class ItemStatus(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


TERMINAL_RUN_STATUSES = frozenset(
    {RunStatus.COMPLETED, RunStatus.COMPLETED_WITH_ERRORS, RunStatus.CANCELLED}
)
TERMINAL_ITEM_STATUSES = frozenset(
    {ItemStatus.SUCCEEDED, ItemStatus.FAILED, ItemStatus.SKIPPED, ItemStatus.CANCELLED}
)
