"""Validate what a run request names: its modules and its clients.

Refusals name what is wrong (at most ``SHOWN`` values, then "and N more") so a person
can fix the request; a client missing a portal's credentials is NOT refused here: its
item fails as ``missing_credentials`` and shows up in the exception report instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import QueryableAttribute, Session

from syncbucket.clientmaster.filters import ClientFilter, filter_condition
from syncbucket.db.base import utcnow
from syncbucket.db.clients import Client
from syncbucket.domain.portals import ModuleKey
from syncbucket.pipeline.errors import RunRefused
from syncbucket.pipeline.requests import RunRequest

SHOWN = 10
CHUNK = 1000  # bound parameters per IN list: far below every driver's limit


@dataclass(frozen=True)
class ClientSelection:
    """``ids`` None = every active client of the firm matching ``condition`` (``count``).

    ``recorded`` is how the run remembers the choice (``runs.selection``).
    """

    ids: list[int] | None
    count: int
    condition: sa.ColumnElement[bool] | None = None
    recorded: dict[str, Any] | None = None


def resolve_modules(modules: Sequence[ModuleKey | str]) -> list[ModuleKey]:
    if not modules:
        raise RunRefused("no_modules", f"choose at least one module: {_known_modules()}")
    unknown = [str(m) for m in modules if str(m) not in ModuleKey._value2member_map_]
    if unknown:
        raise RunRefused(
            "unknown_module", f"unknown module(s) {_listed(unknown)}; known: {_known_modules()}"
        )
    # Keep the registry's order (stable item order), drop repeats.
    wanted = {ModuleKey(str(m)) for m in modules}
    return [key for key in ModuleKey if key in wanted]


def select_clients(
    session: Session, request: RunRequest, now: datetime | None = None
) -> ClientSelection:
    if request.excluded_client_ids and request.client_filter is None:
        # Never silently sync clients the caller excluded: exclusions go with a filter.
        raise RunRefused(
            "ambiguous_clients",
            "excluded clients go with a filter (Select All minus some), not with ids/TANs "
            "or with every client",
        )
    if request.selects_all:
        return _all_active(session, request.firm_id)
    if request.client_filter is not None:
        if not request.selects_by_filter:
            raise RunRefused(
                "ambiguous_clients", "choose clients by a filter or by id/TAN, not both"
            )
        return _by_filter(session, request, request.client_filter, now or utcnow())
    return _explicit(session, request)


def _all_active(session: Session, firm_id: int) -> ClientSelection:
    active = session.scalar(
        sa.select(sa.func.count()).where(Client.firm_id == firm_id, Client.active.is_(True))
    )
    if active:
        return ClientSelection(ids=None, count=int(active), recorded={"kind": "all"})
    total = session.scalar(sa.select(sa.func.count()).where(Client.firm_id == firm_id))
    if not total:
        raise RunRefused("no_clients", "the firm has no clients yet: add or import clients first")
    raise RunRefused("no_clients", f"none of the firm's {total} clients is active")


def _by_filter(
    session: Session, request: RunRequest, chosen: ClientFilter, now: datetime
) -> ClientSelection:
    """Every active client the filter matches, minus the excluded ids (of this firm)."""
    excluded = sorted(set(request.excluded_client_ids or ()))
    condition = filter_condition(chosen, now)
    if excluded:
        condition = sa.and_(condition, Client.id.not_in(excluded))
    count = session.scalar(
        sa.select(sa.func.count()).where(
            Client.firm_id == request.firm_id, Client.active.is_(True), condition
        )
    )
    if not count:
        raise RunRefused("no_clients", f"no active client matches the filter ({chosen.describe()})")
    recorded: dict[str, Any] = {"kind": "filter", "filter": chosen.to_dict()}
    if excluded:
        recorded["excluded"] = len(excluded)
    return ClientSelection(ids=None, count=int(count), condition=condition, recorded=recorded)


def _explicit(session: Session, request: RunRequest) -> ClientSelection:
    ids = sorted(set(request.client_ids or ()))
    tans = sorted({tan.strip().upper() for tan in request.tans or () if tan.strip()})
    by_id = _rows(session, request.firm_id, Client.id, ids)
    by_tan = _rows(session, request.firm_id, Client.tan, tans)
    found_tans, found_ids = {row.tan for row in by_tan}, {row.id for row in by_id}
    unknown_tans = [t for t in tans if t not in found_tans]
    unknown_ids = [str(i) for i in ids if i not in found_ids]
    unknown = [f"TAN {t}" for t in unknown_tans] + [f"client id {i}" for i in unknown_ids]
    if unknown:
        raise RunRefused(
            "unknown_clients",
            f"not clients of this firm: {_listed(unknown)}",
            details={"unknown_tans": unknown_tans, "unknown_client_ids": unknown_ids},
        )
    chosen = {row.id: row for row in (*by_id, *by_tan)}
    if not chosen:
        raise RunRefused("no_clients", "no client selected: give client ids or TANs, or none")
    inactive = [f"{row.name} ({row.tan})" for row in chosen.values() if not row.active]
    if inactive:
        raise RunRefused(
            "inactive_clients", f"inactive clients cannot be synced: {_listed(sorted(inactive))}"
        )
    return ClientSelection(ids=sorted(chosen), count=len(chosen), recorded={"kind": "clients"})


class _ClientRow(NamedTuple):
    id: int
    tan: str
    name: str
    active: bool


def _rows(
    session: Session, firm_id: int, column: QueryableAttribute[Any], values: Sequence[object]
) -> list[_ClientRow]:
    found: list[_ClientRow] = []
    for start in range(0, len(values), CHUNK):
        chunk = values[start : start + CHUNK]
        rows = session.execute(
            sa.select(Client.id, Client.tan, Client.name, Client.active).where(
                Client.firm_id == firm_id, column.in_(chunk)
            )
        )
        found += [_ClientRow(*row) for row in rows]
    return found


def _listed(values: Iterable[str]) -> str:
    values = list(values)
    shown = ", ".join(values[:SHOWN])
    rest = len(values) - SHOWN
    return f"{shown} and {rest} more" if rest > 0 else shown


def _known_modules() -> str:
    return ", ".join(key.value for key in ModuleKey)
