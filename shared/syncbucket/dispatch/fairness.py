"""How many pending items of which run to release now: the pure part of the dispatcher.

Each portal has a window (its in-flight cap); what is free of it is shared round-robin
across the FIRMS with work waiting, one item per turn, so a firm with many runs (or
high-priority ones) gets no more than its share while another firm waits. A firm's turn
goes round-robin to its own runs, in an order that lets interactive and small runs
through first: higher priority, then fewer items left, then older. A one-client run
started during a 10,000-client run therefore gets its items out in the very next tick.
Firms take their turns in the order of their first run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RunBacklog:
    run_id: int
    firm_id: int
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


def firm_queues(runs: Sequence[RunBacklog]) -> list[deque[RunBacklog]]:
    """One queue of waiting runs (turn order) per firm; firms in the order of their first run."""
    queues: dict[int, deque[RunBacklog]] = {}
    for run in turn_order(runs):
        if run.pending > 0:
            queues.setdefault(run.firm_id, deque()).append(run)
    return list(queues.values())


def share_window(portal: str, free: int, runs: Sequence[RunBacklog]) -> list[Release]:
    """Deal ``free`` slots one at a time: round-robin over firms, then over a firm's runs."""
    queues = firm_queues(runs)
    granted = {run.run_id: 0 for queue in queues for run in queue}
    while free > 0 and queues:
        still_waiting = []
        for queue in queues:
            if free == 0:
                break
            run = queue.popleft()
            granted[run.run_id] += 1
            free -= 1
            if granted[run.run_id] < run.pending:
                queue.append(run)  # the firm's next turn goes to its next run
            if queue:
                still_waiting.append(queue)
        queues = still_waiting
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
