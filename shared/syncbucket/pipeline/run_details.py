"""Reads around a run for its page: records per module, rejected logins, retry runs.

Like :mod:`.queries`, every function is scoped by firm (callers pass a run they have
already loaded for the firm, or the firm id itself).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.db.clients import Client
from syncbucket.db.items import Item
from syncbucket.db.runs import Run
from syncbucket.domain.runs import ItemStatus
from syncbucket.portals.errors import ErrorCode

LOGIN_CODES = (ErrorCode.INVALID_CREDENTIALS.value, ErrorCode.LOCKED.value)


@dataclass(frozen=True)
class ModuleRecords:
    new: int
    changed: int


@dataclass(frozen=True)
class RejectedLogin:
    """A client whose portal refused the stored credentials in this run."""

    client_id: int
    name: str
    tan: str
    portals: tuple[str, ...]
    locked: bool
    items: int


def records_by_module(session: Session, firm_id: int, run_id: int) -> dict[str, ModuleRecords]:
    rows = session.execute(
        sa.select(Item.module, sa.func.sum(Item.records_new), sa.func.sum(Item.records_changed))
        .where(Item.run_id == run_id, Item.firm_id == firm_id)
        .group_by(Item.module)
    )
    return {
        module: ModuleRecords(int(new or 0), int(changed or 0)) for module, new, changed in rows
    }


def rejected_logins(session: Session, firm_id: int, run_id: int) -> list[RejectedLogin]:
    rows = session.execute(
        sa.select(Item.client_id, Client.name, Client.tan, Item.portal, Item.error_code)
        .join(Client, Client.id == Item.client_id)
        .where(
            Item.run_id == run_id,
            Item.firm_id == firm_id,
            Item.status == ItemStatus.FAILED,
            Item.error_code.in_(LOGIN_CODES),
        )
        .order_by(Client.name, Client.tan)
    )
    clients: dict[int, tuple[str, str]] = {}
    portals: dict[int, set[str]] = defaultdict(set)
    codes: dict[int, list[str]] = defaultdict(list)
    for client_id, name, tan, portal, code in rows:
        clients[client_id] = (name, tan)
        portals[client_id].add(portal)
        codes[client_id].append(code or "")
    return [
        RejectedLogin(
            client_id=client_id,
            name=name,
            tan=tan,
            portals=tuple(sorted(portals[client_id])),
            locked=ErrorCode.LOCKED.value in codes[client_id],
            items=len(codes[client_id]),
        )
        for client_id, (name, tan) in clients.items()
    ]


def retry_runs(session: Session, firm_id: int, run_ids: Sequence[int]) -> dict[int, list[int]]:
    """For each run id, the runs that re-synced its failures (normally one)."""
    if not run_ids:
        return {}
    children: dict[int, list[int]] = defaultdict(list)
    rows = session.execute(
        sa.select(Run.parent_run_id, Run.id)
        .where(Run.firm_id == firm_id, Run.parent_run_id.in_(list(run_ids)))
        .order_by(Run.id)
    )
    for parent, child in rows:
        if parent is not None:
            children[int(parent)].append(int(child))
    return dict(children)
