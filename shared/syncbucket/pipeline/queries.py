"""Reads for people and APIs: run summary, run list, item pages, the exception report.

Every function takes ``firm_id`` and filters by it; a run of another firm raises
:class:`RunNotFound` exactly like a missing one, so ids leak nothing across tenants.
Counts come from GROUP BY on ``items`` (index ``(run_id, status)``), never from loading
items; pages use keyset pagination (``after_id`` / ``before_id``) so page 500 costs
what page 1 costs.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.db.clients import Client
from syncbucket.db.items import Item
from syncbucket.db.runs import Run
from syncbucket.domain.runs import ItemStatus
from syncbucket.pipeline.errors import RunNotFound
from syncbucket.pipeline.views import (
    ExceptionRow,
    ItemPage,
    ItemView,
    RunListEntry,
    RunPage,
    RunSummary,
    StatusCounts,
)

MAX_PAGE = 1000


def run_summary(session: Session, firm_id: int, run_id: int) -> RunSummary:
    return summarise(session, load_run(session, firm_id, run_id))


def load_run(session: Session, firm_id: int, run_id: int) -> Run:
    """The run, freshly read (bulk UPDATEs elsewhere bypass the identity map)."""
    run = session.scalars(
        sa.select(Run)
        .where(Run.id == run_id, Run.firm_id == firm_id)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if run is None:
        raise RunNotFound(run_id)
    return run


def summarise(session: Session, run: Run) -> RunSummary:
    """The summary of a run already loaded (and already authorised) by the caller."""
    per_status: dict[str, int] = defaultdict(int)
    per_module: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    per_portal: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = session.execute(
        sa.select(Item.module, Item.portal, Item.status, sa.func.count())
        .where(Item.run_id == run.id)
        .group_by(Item.module, Item.portal, Item.status)
    )
    for module, portal, status, count in rows:
        per_status[status] += count
        per_module[module][status] += count
        per_portal[portal][status] += count
    return RunSummary(
        run_id=run.id,
        firm_id=run.firm_id,
        status=run.status.value,
        source=run.source.value,
        modules=list(run.modules),
        priority=run.priority,
        parent_run_id=run.parent_run_id,
        requested_by=run.requested_by,
        idempotency_key=run.idempotency_key,
        total_items=run.total_items,
        items_done=run.items_done,
        counts=StatusCounts.from_pairs(per_status),
        by_module={k: StatusCounts.from_pairs(v) for k, v in sorted(per_module.items())},
        by_portal={k: StatusCounts.from_pairs(v) for k, v in sorted(per_portal.items())},
        records_new=run.records_new,
        records_changed=run.records_changed,
        created_at=run.created_at,
        started_at=run.started_at,
        completed_at=run.completed_at,
        cancel_requested_at=run.cancel_requested_at,
        duration_seconds=_duration(run),
    )


def _duration(run: Run) -> float | None:
    if run.started_at is None or run.completed_at is None:
        return None
    return (run.completed_at - run.started_at).total_seconds()


def list_runs(
    session: Session, firm_id: int, *, limit: int = 50, before_id: int | None = None
) -> RunPage:
    """The firm's runs, newest first (ids only grow, so id order is creation order)."""
    size = _page_size(limit)
    query = sa.select(Run).where(Run.firm_id == firm_id).order_by(Run.id.desc()).limit(size + 1)
    if before_id is not None:
        query = query.where(Run.id < before_id)
    runs = list(session.scalars(query.execution_options(populate_existing=True)))
    more = len(runs) > size
    runs = runs[:size]
    return RunPage(
        runs=[_entry(run) for run in runs],
        next_before_id=runs[-1].id if more else None,
    )


def _entry(run: Run) -> RunListEntry:
    return RunListEntry(
        run_id=run.id,
        status=run.status.value,
        source=run.source.value,
        modules=list(run.modules),
        priority=run.priority,
        parent_run_id=run.parent_run_id,
        requested_by=run.requested_by,
        total_items=run.total_items,
        client_count=run.client_count,
        items_succeeded=run.items_succeeded,
        items_failed=run.items_failed,
        items_skipped=run.items_skipped,
        items_cancelled=run.items_cancelled,
        records_new=run.records_new,
        records_changed=run.records_changed,
        created_at=run.created_at,
        started_at=run.started_at,
        completed_at=run.completed_at,
    )


def list_items(
    session: Session,
    firm_id: int,
    run_id: int,
    *,
    status: ItemStatus | str | None = None,
    limit: int = 100,
    after_id: int | None = None,
) -> ItemPage:
    """A page of a run's items in id order, optionally of one status, with client names."""
    _ensure_run(session, firm_id, run_id)
    size = _page_size(limit)
    query = (
        sa.select(Item, Client.name, Client.tan)
        .join(Client, Client.id == Item.client_id)
        .where(Item.run_id == run_id, Item.firm_id == firm_id)
        .order_by(Item.id)
        .limit(size + 1)
    )
    if status is not None:
        query = query.where(Item.status == ItemStatus(status))
    if after_id is not None:
        query = query.where(Item.id > after_id)
    rows = session.execute(query.execution_options(populate_existing=True)).all()
    views = [_item_view(item, name, tan) for item, name, tan in rows[:size]]
    more = len(rows) > size
    return ItemPage(items=views, next_after_id=views[-1].item_id if more else None)


def _item_view(item: Item, client_name: str, tan: str) -> ItemView:
    return ItemView(
        item_id=item.id,
        run_id=item.run_id,
        client_id=item.client_id,
        client_name=client_name,
        tan=tan,
        module=item.module,
        portal=item.portal,
        status=item.status.value,
        attempts=item.attempts,
        error_code=item.error_code,
        error_message=item.error_message,
        records_fetched=item.records_fetched,
        records_new=item.records_new,
        records_changed=item.records_changed,
        records_unchanged=item.records_unchanged,
        queued_at=item.queued_at,
        started_at=item.started_at,
        finished_at=item.finished_at,
    )


def exception_rows(
    session: Session,
    firm_id: int,
    run_id: int,
    *,
    error_code: str | None = None,
    module: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[ExceptionRow]:
    """The run's failed items (of one error code / module when given), ordered by client
    name, then TAN, module and portal; ``limit`` None = all of them."""
    _ensure_run(session, firm_id, run_id)
    query = (
        sa.select(
            Item.id,
            Item.client_id,
            Client.name,
            Client.tan,
            Item.module,
            Item.portal,
            Item.error_code,
            Item.error_message,
            Item.attempts,
            Item.finished_at,
        )
        .join(Client, Client.id == Item.client_id)
        .where(_failed(firm_id, run_id, error_code, module))
        .order_by(Client.name, Client.tan, Item.module, Item.portal)
        .offset(max(0, offset))
    )
    if limit is not None:
        query = query.limit(_page_size(limit))
    return [
        ExceptionRow(
            item_id=row[0],
            client_id=row[1],
            client_name=row[2],
            tan=row[3],
            module=row[4],
            portal=row[5],
            error_code=row[6],
            error_message=row[7],
            attempts=row[8],
            finished_at=row[9],
        )
        for row in session.execute(query)
    ]


def failed_counts(
    session: Session, firm_id: int, run_id: int, *, module: str | None = None
) -> list[tuple[str, int]]:
    """Failed items per error code (most frequent first), optionally of one module."""
    _ensure_run(session, firm_id, run_id)
    code = sa.func.coalesce(Item.error_code, "unknown")
    rows = session.execute(
        sa.select(code, sa.func.count())
        .where(_failed(firm_id, run_id, None, module))
        .group_by(code)
        .order_by(sa.func.count().desc(), code)
    )
    return [(str(found), int(count)) for found, count in rows]


def _failed(
    firm_id: int, run_id: int, error_code: str | None, module: str | None
) -> sa.ColumnElement[bool]:
    condition = sa.and_(
        Item.run_id == run_id, Item.firm_id == firm_id, Item.status == ItemStatus.FAILED
    )
    if error_code is not None:
        condition = sa.and_(condition, sa.func.coalesce(Item.error_code, "unknown") == error_code)
    if module is not None:
        condition = sa.and_(condition, Item.module == module)
    return condition


def _ensure_run(session: Session, firm_id: int, run_id: int) -> None:
    found = session.scalar(sa.select(Run.id).where(Run.id == run_id, Run.firm_id == firm_id))
    if found is None:
        raise RunNotFound(run_id)


def _page_size(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE))
