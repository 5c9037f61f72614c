"""What a caller asks for when it starts a run (UI, API, CLI, upstream event, schedule)."""

from __future__ import annotations

from dataclasses import dataclass

from syncbucket.clientmaster.filters import ClientFilter
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.runs import RunSource

# A person waiting at a screen goes first; machines can wait; the nightly schedule last.
DEFAULT_PRIORITY: dict[RunSource, int] = {
    RunSource.UI: 10,
    RunSource.CLI: 10,
    RunSource.RETRY: 10,
    RunSource.API: 5,
    RunSource.EVENT: 5,
    RunSource.SCHEDULE: 0,
}


@dataclass(frozen=True)
class RunRequest:
    """Which clients: ``client_ids`` and/or ``tans`` (their union), or ``client_filter``
    (every active client the Client Master's filter matches, minus ``excluded_client_ids``:
    "Select All" with a few unticked), or none of them = every active client of the firm.

    ``modules`` may hold plain strings from an API; unknown ones are refused by name.
    """

    firm_id: int
    modules: list[ModuleKey]
    client_ids: list[int] | None = None
    tans: list[str] | None = None
    source: RunSource = RunSource.UI
    idempotency_key: str | None = None
    priority: int | None = None  # None = DEFAULT_PRIORITY[source]
    requested_by: str | None = None
    parent_run_id: int | None = None
    client_filter: ClientFilter | None = None
    excluded_client_ids: list[int] | None = None

    @property
    def selects_all(self) -> bool:
        return self.client_ids is None and self.tans is None and self.client_filter is None

    @property
    def selects_by_filter(self) -> bool:
        return self.client_filter is not None and self.client_ids is None and self.tans is None

    def effective_priority(self) -> int:
        if self.priority is not None:
            return self.priority
        return DEFAULT_PRIORITY[RunSource(self.source)]
