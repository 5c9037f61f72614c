"""Bulk item creation with ``INSERT ... SELECT``: the rows never travel to Python.

The module parts (one per portal a module touches, from the registry) become a small
``UNION ALL`` of literal rows that the database cross-joins with the selected clients.
Explicit client lists are chunked so no statement exceeds a driver's parameter limit;
chunks go in ascending client id, so ids still follow (client, part) order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.db.clients import Client
from syncbucket.db.items import Item
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.runs import ItemStatus
from syncbucket.portals.registry import parts_for

CHUNK = 1000
COLUMNS = ("run_id", "firm_id", "client_id", "module", "portal", "status", "created_at")


def parts_table(modules: Sequence[ModuleKey]) -> sa.Subquery:
    rows = [
        sa.select(
            sa.literal(part.module.value, sa.String).label("module"),
            sa.literal(part.portal.value, sa.String).label("portal"),
            sa.literal(ordinal, sa.Integer).label("ordinal"),
        )
        for ordinal, part in enumerate(p for key in modules for p in parts_for(key))
    ]
    return sa.union_all(*rows).subquery("parts")


def for_clients(
    session: Session,
    run_id: int,
    firm_id: int,
    modules: Sequence[ModuleKey],
    client_ids: Sequence[int] | None,
    now: datetime,
    condition: sa.ColumnElement[bool] | None = None,
) -> int:
    """Insert one pending item per (client, part) of the active clients: the ones in
    ``client_ids``, or (None) every one matching ``condition`` (None = all)."""
    parts = parts_table(modules)
    base = (
        sa.select(
            sa.literal(run_id, sa.Integer),
            sa.literal(firm_id, sa.Integer),
            Client.id,
            parts.c.module,
            parts.c.portal,
            sa.literal(ItemStatus.PENDING.value, sa.String),
            sa.literal(now, Item.created_at.type),
        )
        .select_from(Client)
        .join(parts, sa.true())
        .where(Client.firm_id == firm_id, Client.active.is_(True))
        .order_by(Client.id, parts.c.ordinal)
    )
    if condition is not None:
        base = base.where(condition)
    if client_ids is None:
        return _insert(session, base)
    total = 0
    ids = sorted(client_ids)
    for start in range(0, len(ids), CHUNK):
        total += _insert(session, base.where(Client.id.in_(ids[start : start + CHUNK])))
    return total


def failed_of(session: Session, run_id: int, parent_run_id: int, now: datetime) -> int:
    """Copy the parent's failed items (same client, module and portal part) as pending."""
    query = (
        sa.select(
            sa.literal(run_id, sa.Integer),
            Item.firm_id,
            Item.client_id,
            Item.module,
            Item.portal,
            sa.literal(ItemStatus.PENDING.value, sa.String),
            sa.literal(now, Item.created_at.type),
        )
        .where(Item.run_id == parent_run_id, Item.status == ItemStatus.FAILED)
        .order_by(Item.id)
    )
    return _insert(session, query)


def _insert(session: Session, query: sa.Selectable) -> int:
    # rowcount is how the run learns its total; SQLAlchemy keeps it for an INSERT only
    # when asked (psycopg otherwise reports -1).
    result = session.execute(
        sa.insert(Item).from_select(list(COLUMNS), query, include_defaults=False),
        execution_options={"preserve_rowcount": True},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
