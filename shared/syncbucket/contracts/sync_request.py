"""``data`` of a ``syncbucket.sync.requested`` CloudEvent (docs/schemas/sync-requested.json).

The same client and module vocabulary as ``POST /api/v1/runs`` (:mod:`.run_selection`),
so an upstream system and an HTTP caller are refused with the same words.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from syncbucket.contracts.run_selection import (
    MAX_PRIORITY,
    Clients,
    Modules,
    check_idempotency_key,
)


class SyncRequestData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    clients: Clients = Field(
        description='"all" active clients, {"tans": [...]}, {"ids": [...]}, or '
        '{"filter": {...}, "exclude_ids": [...]} (a Client Master filter)'
    )
    modules: Modules
    priority: int | None = Field(default=None, ge=0, le=MAX_PRIORITY)
    requested_by: str | None = Field(default=None, min_length=1, max_length=200)
    idempotency_key: Annotated[
        str | None,
        Field(min_length=1, max_length=200),
        AfterValidator(check_idempotency_key),
    ] = None
