"""A schedule as a caller asks for it, validated into what ``schedules`` stores.

The API, the CLI and the web app hand over raw values (a filter as JSON or form fields,
modules as ``"all"`` or keys); :func:`schedule_spec` checks them all in one place and
raises :class:`InvalidSchedule` naming the first field to change.

Stored shapes (``syncbucket.db.schedules``):

- ``selection``: ``{"kind": "all"}`` (every active client of the firm when it fires) or
  ``{"kind": "filter", "filter": {...}}`` (the Client Master filter's ``to_dict()``: the
  active clients it matches when it fires -- "failed last time" is re-read each time);
- ``modules``: ``["all"]`` -- every module, including ones a later release adds -- or
  module keys in the registry's order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from syncbucket.clientmaster.filters import ClientFilter, InvalidFilter, parse_filter
from syncbucket.db.schedules import DEFAULT_TIME_ZONE
from syncbucket.domain.portals import MODULE_TITLES, ModuleKey
from syncbucket.schedules.cron import Recurrence
from syncbucket.schedules.errors import InvalidSchedule

ALL = "all"
MAX_NAME_LENGTH = 100  # schedules.name is VARCHAR(100)
# The priorities a run request may ask for (docs/api.md): 0..10, higher goes first among
# the firm's own runs; None = the schedule source's default (0: nightly work goes last).
MIN_PRIORITY, MAX_PRIORITY = 0, 10
KNOWN_MODULES = ", ".join(key.value for key in ModuleKey)


@dataclass(frozen=True)
class Selection:
    """Which clients a fire syncs: ``client_filter`` None = every active client."""

    client_filter: ClientFilter | None = None

    def to_document(self) -> dict[str, Any]:
        if self.client_filter is None:
            return {"kind": "all"}
        return {"kind": "filter", "filter": self.client_filter.to_dict()}

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Selection:
        """The stored selection; ``InvalidSchedule`` (``filter.<field>``) if it went bad."""
        if document.get("kind") != "filter":
            return cls()
        return cls(_parsed_filter(document.get("filter") or {}))

    def describe(self) -> str:
        if self.client_filter is None:
            return "all active clients"
        return f"active clients matching: {self.client_filter.describe()}"


@dataclass(frozen=True)
class ScheduleSpec:
    """A valid schedule: ``modules`` None = every module (also those added later)."""

    name: str
    recurrence: Recurrence
    selection: Selection
    modules: tuple[ModuleKey, ...] | None
    priority: int | None

    def stored_modules(self) -> list[str]:
        return [ALL] if self.modules is None else [key.value for key in self.modules]


def schedule_spec(
    *,
    name: str,
    cron: str,
    time_zone: str | None = None,
    client_filter: Mapping[str, Any] | ClientFilter | None = None,
    modules: str | Sequence[str] = ALL,
    priority: int | None = None,
) -> ScheduleSpec:
    """Validate everything a new schedule names; the first problem found is raised."""
    return ScheduleSpec(
        name=check_name(name),
        recurrence=Recurrence.parse(cron, time_zone or DEFAULT_TIME_ZONE),
        selection=Selection(_filter_or_all(client_filter)),
        modules=parse_modules(modules),
        priority=check_priority(priority),
    )


def check_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidSchedule("name", "give the schedule a name, e.g. nightly challans")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidSchedule("name", f"at most {MAX_NAME_LENGTH} characters")
    if not cleaned.isprintable():
        raise InvalidSchedule("name", "only printable characters")
    return cleaned


def parse_modules(modules: str | Sequence[str]) -> tuple[ModuleKey, ...] | None:
    """``"all"`` (or ``["all"]``) -> None; else the keys, repeats dropped, registry order."""
    values = [modules] if isinstance(modules, str) else list(modules)
    cleaned = [str(value).strip() for value in values if str(value).strip()]
    if cleaned == [ALL]:
        return None
    if not cleaned:
        raise InvalidSchedule("modules", f'choose "all" or at least one of: {KNOWN_MODULES}')
    unknown = [value for value in cleaned if value not in ModuleKey._value2member_map_]
    if unknown:
        raise InvalidSchedule(
            "modules", f"unknown module(s) {', '.join(unknown)}; known modules: {KNOWN_MODULES}"
        )
    wanted = set(cleaned)
    return tuple(key for key in ModuleKey if key.value in wanted)


def modules_from_document(stored: Sequence[str]) -> tuple[ModuleKey, ...] | None:
    """The stored list read back (None = all); ``InvalidSchedule`` names a key this
    version does not know (a fire after a downgrade is refused saying so)."""
    return parse_modules(list(stored))


def module_words(modules: tuple[ModuleKey, ...] | None) -> str:
    if modules is None:
        return "all modules"
    return ", ".join(MODULE_TITLES[key] for key in modules)


def check_priority(priority: int | None) -> int | None:
    if priority is None:
        return None
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise InvalidSchedule("priority", f"expected a whole number {MIN_PRIORITY}..{MAX_PRIORITY}")
    if not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        raise InvalidSchedule(
            "priority",
            f"expected {MIN_PRIORITY}..{MAX_PRIORITY} (higher goes first), got {priority}",
        )
    return priority


def _filter_or_all(chosen: Mapping[str, Any] | ClientFilter | None) -> ClientFilter | None:
    """An empty filter is "all active clients", stored as such."""
    parsed = (
        chosen if isinstance(chosen, ClientFilter) or chosen is None else _parsed_filter(chosen)
    )
    return None if parsed is None or parsed.is_empty() else parsed


def _parsed_filter(values: Mapping[str, Any]) -> ClientFilter:
    if not isinstance(values, Mapping):
        raise InvalidSchedule("filter", "expected an object of Client Master filter fields")
    try:
        return parse_filter(values)
    except InvalidFilter as exc:
        raise InvalidSchedule(f"filter.{exc.field}", exc.message) from None
