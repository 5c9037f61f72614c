"""How many pending items of which run to release now: the pure part of the dispatcher.

Each portal has a window (its in-flight cap); what is free of it is shared round-robin
across the active runs, one item per turn, in an order that lets interactive and small
runs through first: higher priority, then fewer items left, then older. A one-client run
started during a 10,000-client run therefore gets its items out in the very next tick.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RunBacklog:
    run_id: int
    priority: int
    created_at: datetime
    pending: int  # items of this run for this portal still waiting to be released
    remaining: int  # items of this run not yet terminal (all portals): the "size" now


@dataclass(frozen=True)
class Release:
    run_id: int
    portal: str
    count: int


def turn_order(runs: Sequence[RunBacklog]) -> list[RunBacklog]:
    return sorted(runs, key=lambda r: (-r.priority, r.remaining, r.created_at, r.run_id))


def share_window(portal: str, free: int, runs: Sequence[RunBacklog]) -> list[Release]:
    """Deal ``free`` slots one at a time round-robin over ``runs`` in turn order."""
    order = [run for run in turn_order(runs) if run.pending > 0]
    granted = dict.fromkeys((run.run_id for run in order), 0)
    while free > 0 and order:
        still_waiting = []
        for run in order:
            if free == 0:
                break
            granted[run.run_id] += 1
            free -= 1
            if granted[run.run_id] < run.pending:
                still_waiting.append(run)
        order = still_waiting
    return [Release(run_id, portal, n) for run_id, n in granted.items() if n > 0]


def plan_releases(
    window: Mapping[str, int],
    in_flight: Mapping[str, int],
    backlog: Mapping[str, Sequence[RunBacklog]],
) -> list[Release]:
    """All releases for one dispatcher tick, every portal's window respected."""
    releases: list[Release] = []
    for portal, cap in window.items():
        free = max(0, cap - in_flight.get(portal, 0))
        releases.extend(share_window(portal, free, backlog.get(portal, ())))
    return releases
