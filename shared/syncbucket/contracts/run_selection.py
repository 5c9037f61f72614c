"""How a caller names clients and modules: one definition for the HTTP API, upstream sync
requests (docs/events.md) and their JSON Schemas, so both doors refuse the same input with
the same words.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from syncbucket.clientmaster.filters import ClientFilter, InvalidFilter, parse_filter
from syncbucket.domain.identifiers import InvalidIdentifier, validate_tan
from syncbucket.domain.portals import ModuleKey

MAX_SELECTION = 100_000
KNOWN_MODULES = ", ".join(key.value for key in ModuleKey)
#: Ids are 32-bit (``runs.id`` is int4); larger ones cannot name a row.
MAX_ID = 2**31 - 1
#: Priorities a caller may ask for: 0..10 (the UI and CLI default is 10, the API's 5).
MAX_PRIORITY = 10
#: Idempotency keys of these forms belong to runs SyncBucket starts itself: retries of a
#: run's failures (``retry-of-<run id>``) and schedule fires (``schedule:<id>:<time>``).
RESERVED_KEY_PREFIXES = ("retry-of-", "schedule:")
RESERVED_KEY_PREFIX = RESERVED_KEY_PREFIXES[0]

DbId = Annotated[int, Field(ge=1, le=MAX_ID)]


def check_idempotency_key(value: str | None) -> str | None:
    if value is not None and value.startswith(RESERVED_KEY_PREFIXES):
        listed = '" or "'.join(RESERVED_KEY_PREFIXES)
        raise ValueError(f'keys starting with "{listed}" are reserved for retries and schedules')
    return value


def module_keys(modules: Literal["all"] | list[str]) -> list[ModuleKey]:
    """``"all"`` or validated keys -> the module keys, in the registry's order for "all"."""
    if modules == "all":
        return list(ModuleKey)
    return [ModuleKey(value) for value in modules]


def _tans(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    try:
        return list(dict.fromkeys(validate_tan(value) for value in values))
    except InvalidIdentifier as exc:
        raise ValueError(str(exc)) from None


def _modules(values: list[str]) -> list[str]:
    unknown = [value for value in values if value not in ModuleKey._value2member_map_]
    if unknown:
        raise ValueError(f"unknown module(s) {', '.join(unknown)}; known modules: {KNOWN_MODULES}")
    return list(dict.fromkeys(values))


class ClientSelection(BaseModel):
    """Some of the firm's clients, by TAN or by id: exactly one of the two."""

    model_config = ConfigDict(extra="forbid")

    tans: Annotated[
        list[str] | None,
        Field(min_length=1, max_length=MAX_SELECTION, examples=[["DELA12345B"]]),
        AfterValidator(_tans),
    ] = None
    ids: Annotated[
        list[DbId] | None, Field(min_length=1, max_length=MAX_SELECTION, examples=[[1, 2]])
    ] = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ClientSelection:
        if (self.tans is None) == (self.ids is None):
            raise ValueError('give exactly one of "tans" or "ids"')
        return self


class FilterSelection(BaseModel):
    """Every active client a Client Master filter matches, minus ``exclude_ids``."""

    model_config = ConfigDict(extra="forbid")

    filter: dict[str, Any] = Field(
        description="search, active, credentials, failed_last_time, not_synced_days, "
        "never_synced, module (docs/api.md)",
        examples=[{"failed_last_time": True, "module": "verify_ldc"}],
    )
    exclude_ids: Annotated[list[DbId] | None, Field(max_length=MAX_SELECTION)] = None

    @model_validator(mode="after")
    def _parsable(self) -> FilterSelection:
        try:
            parse_filter(self.filter)
        except InvalidFilter as exc:
            raise ValueError(f"filter.{exc.field}: {exc.message}") from None
        return self

    def parsed(self) -> ClientFilter:
        return parse_filter(self.filter)


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "all"
    if isinstance(value, list):
        return "list"
    return "by_filter" if isinstance(value, dict) and "filter" in value else "selection"


Clients = Annotated[
    Annotated[Literal["all"], Tag("all")]
    | Annotated[ClientSelection, Tag("selection")]
    | Annotated[FilterSelection, Tag("by_filter")],
    Discriminator(_kind),
]
ModuleList = Annotated[
    list[str], Field(min_length=1, max_length=64), AfterValidator(_modules), Tag("list")
]
Modules = Annotated[Annotated[Literal["all"], Tag("all")] | ModuleList, Discriminator(_kind)]
