"""Request bodies, validated with messages that name the offending value."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from syncbucket.clientmaster.filters import ClientFilter
from syncbucket.contracts.run_selection import (
    KNOWN_MODULES,
    MAX_ID,
    MAX_PRIORITY,
    MAX_SELECTION,
    RESERVED_KEY_PREFIX,
    RESERVED_KEY_PREFIXES,
    Clients,
    ClientSelection,
    DbId,
    FilterSelection,
    Modules,
    check_idempotency_key,
    module_keys,
)
from syncbucket.domain.portals import ModuleKey

__all__ = [
    "KNOWN_MODULES",
    "MAX_ID",
    "MAX_PRIORITY",
    "MAX_SELECTION",
    "RESERVED_KEY_PREFIX",
    "RESERVED_KEY_PREFIXES",
    "ClientSelection",
    "Clients",
    "CreateRunRequest",
    "DbId",
    "FilterSelection",
    "Modules",
    "check_idempotency_key",
]


class CreateRunRequest(BaseModel):
    """Start a run: which clients, which modules."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"clients": "all", "modules": "all"},
                {"clients": {"tans": ["DELA12345B"]}, "modules": ["return_summary"]},
            ]
        },
    )

    clients: Clients = Field(
        description='"all" active clients, {"tans": [...]}, {"ids": [...]}, or '
        '{"filter": {...}, "exclude_ids": [...]} (a Client Master filter)'
    )
    modules: Modules = Field(description=f'"all" or a list of module keys: {KNOWN_MODULES}')
    priority: int | None = Field(
        default=None,
        ge=0,
        le=MAX_PRIORITY,
        description="0..10, higher goes first among the firm's runs; default 5",
    )
    idempotency_key: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=200,
            description="same key again returns the same run (also: Idempotency-Key header)",
        ),
        AfterValidator(check_idempotency_key),
    ] = None

    def module_keys(self) -> list[ModuleKey]:
        return module_keys(self.modules)

    def client_ids(self) -> list[int] | None:
        return self.clients.ids if isinstance(self.clients, ClientSelection) else None

    def tans(self) -> list[str] | None:
        return self.clients.tans if isinstance(self.clients, ClientSelection) else None

    def client_filter(self) -> ClientFilter | None:
        return self.clients.parsed() if isinstance(self.clients, FilterSelection) else None

    def excluded_ids(self) -> list[int] | None:
        return self.clients.exclude_ids if isinstance(self.clients, FilterSelection) else None
