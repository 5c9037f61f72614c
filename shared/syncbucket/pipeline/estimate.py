"""Before Start Sync: how many items and portal requests a run makes, and how long.

The system knows the three things that decide it: the selection (clients x module
parts), each portal's configured rate limit (``<portal>_rate_per_second``, the sum over
every worker) and the work already queued ahead on each portal, for every firm (the
limit is global). A portal's requests are its clients' logins (one per client: sessions
are shared by a client's modules) plus each part's typical requests (the registry).

Portals run in parallel, so the run takes as long as its slowest portal. The fair
dispatcher shares a portal between runs, so the truth lies between two figures:
``seconds_alone`` (this run's requests at the full rate) and ``seconds_behind`` (after
everything queued ahead too); the page shows both.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.config import Settings
from syncbucket.db.items import Item
from syncbucket.domain.portals import Portal
from syncbucket.domain.runs import ItemStatus
from syncbucket.pipeline.requests import RunRequest
from syncbucket.pipeline.selection import resolve_modules, select_clients
from syncbucket.portals.registry import LOGIN_REQUESTS, PARTS, part, parts_for
from syncbucket.ratelimit.limiter import limits_from_settings

OPEN = (ItemStatus.PENDING, ItemStatus.QUEUED, ItemStatus.RUNNING)


@dataclass(frozen=True)
class PortalEstimate:
    portal: Portal
    items: int
    requests: int
    ahead_items: int
    ahead_requests: int
    rate_per_second: float

    @property
    def seconds_alone(self) -> float:
        return self.requests / self.rate_per_second

    @property
    def seconds_behind(self) -> float:
        return (self.requests + self.ahead_requests) / self.rate_per_second


@dataclass(frozen=True)
class RunEstimate:
    clients: int
    items: int
    portals: tuple[PortalEstimate, ...]

    @property
    def requests(self) -> int:
        return sum(p.requests for p in self.portals)

    @property
    def seconds_alone(self) -> float:
        return max((p.seconds_alone for p in self.portals), default=0.0)

    @property
    def seconds_behind(self) -> float:
        return max((p.seconds_behind for p in self.portals), default=0.0)

    @property
    def slowest(self) -> PortalEstimate | None:
        return max(self.portals, key=lambda p: p.seconds_behind, default=None)


def estimate_run(
    session: Session, request: RunRequest, settings: Settings, now: datetime
) -> RunEstimate:
    """What ``request`` would cost; raises :class:`RunRefused` exactly as creating it would."""
    modules = resolve_modules(request.modules)
    clients = select_clients(session, request, now).count
    chosen = [p for key in modules for p in parts_for(key)]
    ahead = _ahead(session)
    limits = limits_from_settings(settings)
    portals = []
    for portal in Portal:
        mine = [p for p in chosen if p.portal == portal]
        if not mine:
            continue
        per_client = LOGIN_REQUESTS[portal] + sum(p.typical_requests for p in mine)
        ahead_items = sum(count for (where, _module), count in ahead.items() if where == portal)
        portals.append(
            PortalEstimate(
                portal=portal,
                items=clients * len(mine),
                requests=round(clients * per_client),
                ahead_items=ahead_items,
                ahead_requests=round(_ahead_requests(ahead, portal)),
                rate_per_second=limits[portal.value].rate,
            )
        )
    return RunEstimate(clients=clients, items=clients * len(chosen), portals=tuple(portals))


def _ahead(session: Session) -> dict[tuple[Portal, str], int]:
    rows = session.execute(
        sa.select(Item.portal, Item.module, sa.func.count())
        .where(Item.portal.in_([p.value for p in Portal]), Item.status.in_(OPEN))
        .group_by(Item.portal, Item.module)
    )
    found: dict[tuple[Portal, str], int] = defaultdict(int)
    for portal, module, count in rows:
        found[(Portal(portal), module)] += int(count)
    return found


def _ahead_requests(ahead: dict[tuple[Portal, str], int], portal: Portal) -> float:
    """Queued work's requests: each item's typical ones plus its share of a login."""
    parts_here = sum(1 for p in PARTS if p.portal == portal)
    login_share = LOGIN_REQUESTS[portal] / parts_here
    total = 0.0
    for (where, module), count in ahead.items():
        if where == portal:
            total += count * (part(module, portal).typical_requests + login_share)
    return total
