"""The Client Master's table: a firm's clients, filtered, sorted and paged in SQL.

One page is six small queries whatever the firm's size: the page's client ids with the
total (``count(*) OVER ()``, ORDER BY + LIMIT/OFFSET, filters as EXISTS on the read
models), those clients, then their credentials, login states, module-part states and
module states. At 10,000 clients with a sync history a page takes 20-50 ms of database
time (tests/perf/test_web_bench.py). Credentials are only ever *named* here (which portals have
them and what the portal said at the last login), never decrypted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.clientmaster.errors import ClientNotFound
from syncbucket.clientmaster.filters import ClientFilter, filter_condition
from syncbucket.db.client_state import ClientLoginState, ClientModuleState, ClientModuleSync
from syncbucket.db.clients import Client, ClientCredential
from syncbucket.domain.portals import ModuleKey, Portal

MAX_PAGE = 500


class SortKey(StrEnum):
    NAME = "name"
    TAN = "tan"
    PAN = "pan"
    ACTIVE = "active"
    LAST_SYNCED = "last_synced"


class CredentialState(StrEnum):
    OK = "ok"
    REJECTED = "rejected"
    LOCKED = "locked"
    MISSING = "missing"
    UNCHECKED = "unchecked"


@dataclass(frozen=True)
class PortalCredentialState:
    portal: Portal
    state: CredentialState
    observed_at: datetime | None  # when a login last said so (None: missing / unchecked)


@dataclass(frozen=True)
class ModuleSyncState:
    """A module's last sync for one client; a two-portal module combines its parts."""

    module: ModuleKey
    last_success_at: datetime | None  # every part succeeded at least this recently
    last_attempt_at: datetime | None
    last_failed: bool  # the last attempt of some part failed
    error_code: str | None  # that failure's code
    success_run_ids: tuple[int, ...] = ()  # each part's latest successful run


@dataclass(frozen=True)
class ClientEntry:
    id: int
    name: str
    tan: str
    pan: str
    active: bool
    demo_note: str | None
    credentials: tuple[PortalCredentialState, ...]
    modules: dict[ModuleKey, ModuleSyncState] = field(default_factory=dict)

    @property
    def last_synced_at(self) -> datetime | None:
        times = [m.last_success_at for m in self.modules.values() if m.last_success_at]
        return max(times) if times else None

    def credential(self, portal: Portal) -> PortalCredentialState:
        return next(c for c in self.credentials if c.portal == portal)


@dataclass(frozen=True)
class DirectoryPage:
    entries: list[ClientEntry]
    total: int  # clients matching the filter, all pages
    offset: int
    limit: int

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.offset + self.limit < self.total else None


def matching(firm_id: int, chosen: ClientFilter, now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(Client.firm_id == firm_id, filter_condition(chosen, now))


def count_matching(
    session: Session, firm_id: int, chosen: ClientFilter, now: datetime, *, active_only: bool
) -> int:
    condition = matching(firm_id, chosen, now)
    if active_only:
        condition = sa.and_(condition, Client.active.is_(True))
    return int(session.scalar(sa.select(sa.func.count()).where(condition)) or 0)


def _last_synced() -> Any:
    """:attr:`ClientEntry.last_synced_at` in SQL: the latest module sync (NULL if none)."""
    return (
        sa.select(sa.func.max(ClientModuleSync.synced_at))
        .where(ClientModuleSync.client_id == Client.id)
        .scalar_subquery()
    )


def _order(sort: SortKey, descending: bool) -> list[Any]:
    columns: dict[SortKey, Any] = {
        SortKey.NAME: Client.name,
        SortKey.TAN: Client.tan,
        SortKey.PAN: Client.pan,
        SortKey.ACTIVE: Client.active,
    }
    column = _last_synced() if sort == SortKey.LAST_SYNCED else columns[sort]
    first = column.desc().nulls_last() if descending else column.asc().nulls_first()
    return [first, Client.name, Client.id]


def directory_page(
    session: Session,
    firm_id: int,
    chosen: ClientFilter,
    now: datetime,
    *,
    sort: SortKey = SortKey.NAME,
    descending: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> DirectoryPage:
    size = max(1, min(limit, MAX_PAGE))
    start = max(0, offset)
    condition = matching(firm_id, chosen, now)
    # Narrow rows (id and count(*) OVER ()) through the filter and the sort, so the total
    # comes with the page and the filter is evaluated once; then the page's 50 clients.
    rows = session.execute(
        sa.select(Client.id, sa.func.count().over())
        .where(condition)
        .order_by(*_order(sort, descending))
        .offset(start)
        .limit(size)
    ).all()
    if rows:
        total = int(rows[0][1])
    else:  # past the last page: nothing to count along with
        total = int(session.scalar(sa.select(sa.func.count()).where(condition)) or 0)
    ids = [row[0] for row in rows]
    found = {c.id: c for c in session.scalars(sa.select(Client).where(Client.id.in_(ids)))}
    return DirectoryPage(_entries(session, [found[i] for i in ids]), total, start, size)


def client_entry(session: Session, firm_id: int, client_id: int) -> ClientEntry:
    """One client of the firm; another firm's client raises :class:`ClientNotFound` too."""
    client = session.get(Client, client_id)
    if client is None or client.firm_id != firm_id:
        raise ClientNotFound(f"client {client_id} not found")
    return _entries(session, [client])[0]


def _entries(session: Session, clients: Sequence[Client]) -> list[ClientEntry]:
    ids = [client.id for client in clients]
    if not ids:
        return []
    stored: dict[int, set[str]] = defaultdict(set)
    for client_id, portal in session.execute(
        sa.select(ClientCredential.client_id, ClientCredential.portal).where(
            ClientCredential.client_id.in_(ids)
        )
    ):
        stored[client_id].add(portal)
    logins: dict[tuple[int, str], tuple[str, datetime]] = {
        (row.client_id, row.portal): (row.state, row.observed_at)
        for row in session.execute(
            sa.select(
                ClientLoginState.client_id,
                ClientLoginState.portal,
                ClientLoginState.state,
                ClientLoginState.observed_at,
            ).where(ClientLoginState.client_id.in_(ids))
        )
    }
    parts: dict[int, dict[str, list[ClientModuleState]]] = defaultdict(lambda: defaultdict(list))
    for state in session.scalars(
        sa.select(ClientModuleState).where(ClientModuleState.client_id.in_(ids))
    ):
        parts[state.client_id][state.module].append(state)
    wholes: dict[int, dict[str, ClientModuleSync]] = defaultdict(dict)
    for whole in session.scalars(
        sa.select(ClientModuleSync).where(ClientModuleSync.client_id.in_(ids))
    ):
        wholes[whole.client_id][whole.module] = whole
    return [
        ClientEntry(
            id=client.id,
            name=client.name,
            tan=client.tan,
            pan=client.pan,
            active=client.active,
            demo_note=client.demo_note,
            credentials=tuple(
                _credential(
                    portal, portal.value in stored[client.id], logins.get((client.id, portal.value))
                )
                for portal in Portal
            ),
            modules={
                ModuleKey(module): _module_state(ModuleKey(module), whole, parts[client.id][module])
                for module, whole in wholes[client.id].items()
                if module in ModuleKey._value2member_map_
            },
        )
        for client in clients
    ]


def _credential(
    portal: Portal, has_credentials: bool, login: tuple[str, datetime] | None
) -> PortalCredentialState:
    if not has_credentials:
        return PortalCredentialState(portal, CredentialState.MISSING, None)
    if login is None:
        return PortalCredentialState(portal, CredentialState.UNCHECKED, None)
    return PortalCredentialState(portal, CredentialState(login[0]), login[1])


def _module_state(
    module: ModuleKey, whole: ClientModuleSync, states: list[ClientModuleState]
) -> ModuleSyncState:
    """The module as the filters see it (``whole``), with its parts' error code and runs."""
    failed = [s for s in states if s.last_status == "failed"]
    return ModuleSyncState(
        module=module,
        last_success_at=whole.synced_at,
        last_attempt_at=whole.attempted_at,
        last_failed=whole.failed,
        error_code=failed[0].last_error_code if failed else None,
        success_run_ids=tuple(
            sorted({s.last_success_run_id for s in states if s.last_success_run_id is not None})
        ),
    )
