"""Create, cancel and retry runs -- always inside the caller's transaction.

``create_run`` writes the run with Core INSERTs and its items with ONE
``INSERT ... SELECT`` per chunk of clients: the database crosses the clients with the
module parts itself, so a 10,000-client x 6-module run (70,000 items: notices_orders
has two parts) is a handful of statements, not 70,000 ORM objects. Items are ordered by
client, then part, so the dispatcher (which releases in id order) works through a
client's modules together and its cached portal session is reused (docs/architecture.md §8).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from syncbucket.db.base import utcnow
from syncbucket.db.items import Item
from syncbucket.db.runs import Run
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.runs import ItemStatus, RunSource
from syncbucket.pipeline import item_insert
from syncbucket.pipeline.completion import claim_completion
from syncbucket.pipeline.errors import RunNotFound, RunRefused
from syncbucket.pipeline.requests import DEFAULT_PRIORITY, RunRequest
from syncbucket.pipeline.selection import resolve_modules, select_clients
from syncbucket.portals.registry import parts_for


@dataclass(frozen=True)
class CreatedRun:
    run_id: int
    created: bool  # False: the idempotency key named an existing run, returned as is
    total_items: int


def create_run(session: Session, request: RunRequest, *, now: datetime | None = None) -> CreatedRun:
    """Validate, then write the run and all its items as ``pending``; refuse with a reason."""
    moment = now or utcnow()
    existing = _existing(session, request.firm_id, request.idempotency_key)
    if existing is not None:
        return existing
    modules = resolve_modules(request.modules)
    selection = select_clients(session, request, moment)
    run_id = _insert_run(session, request, modules, moment, selection.recorded)
    if run_id is None:  # lost the race for the idempotency key: the winner's run counts
        found = _existing(session, request.firm_id, request.idempotency_key)
        assert found is not None, "unique violation without a visible winner"
        return found
    total = item_insert.for_clients(
        session, run_id, request.firm_id, modules, selection.ids, moment, selection.condition
    )
    if total == 0:  # the clients were deactivated since select_clients: the caller's
        raise RunRefused(  # transaction rolls back, so no empty run is ever written
            "no_clients", "none of the selected clients is active any more: nothing to sync"
        )
    parts_per_client = sum(len(parts_for(key)) for key in modules)
    _set_total(session, run_id, total, total // parts_per_client)
    return CreatedRun(run_id=run_id, created=True, total_items=total)


def _existing(session: Session, firm_id: int, key: str | None) -> CreatedRun | None:
    if key is None:
        return None
    row = session.execute(
        sa.select(Run.id, Run.total_items).where(Run.firm_id == firm_id, Run.idempotency_key == key)
    ).one_or_none()
    return None if row is None else CreatedRun(row.id, created=False, total_items=row.total_items)


def _insert_run(
    session: Session,
    request: RunRequest,
    modules: list[ModuleKey],
    now: datetime,
    selection: dict[str, Any] | None,
) -> int | None:
    """The new run's id, or None when a concurrent request took the idempotency key."""
    values = {
        "firm_id": request.firm_id,
        "source": RunSource(request.source),
        "status": "pending",
        "modules": [key.value for key in modules],
        "idempotency_key": request.idempotency_key,
        "priority": request.effective_priority(),
        "parent_run_id": request.parent_run_id,
        "requested_by": request.requested_by,
        "selection": selection,
        "created_at": now,
    }
    try:
        # A SAVEPOINT, so a duplicate key rolls back this insert, not the caller's work.
        with session.begin_nested():
            run_id = session.execute(sa.insert(Run).values(values).returning(Run.id)).scalar_one()
    except IntegrityError:
        if request.idempotency_key is None:
            raise
        return None
    return int(run_id)


def _set_total(session: Session, run_id: int, total: int, clients: int) -> None:
    session.execute(
        sa.update(Run).where(Run.id == run_id).values(total_items=total, client_count=clients),
        execution_options={"synchronize_session": False},
    )


def cancel_run(session: Session, firm_id: int, run_id: int, now: datetime) -> None:
    """Stop releasing the run; its pending items become cancelled; in-flight ones finish.

    Cancelling a finished run changes nothing.
    """
    state = session.execute(
        sa.select(Run.completed_at).where(Run.id == run_id, Run.firm_id == firm_id)
    ).one_or_none()
    if state is None:
        raise RunNotFound(run_id)
    if state.completed_at is None:
        cancel_pending(session, run_id, now)


def cancel_pending(session: Session, run_id: int, now: datetime) -> int:
    """Mark the run cancelled, its pending items cancelled, and try to complete it.

    Items first, run second -- the lock order of the aggregator and the reaper, so no
    cycle can form; the dispatcher's SKIP LOCKED passes over items locked here, and it
    re-reads ``cancel_requested_at`` before it locks items. The reaper calls this too, to
    sweep up an item re-released to pending while the cancel was committing.
    """
    cancelled = session.execute(
        sa.update(Item)
        .where(Item.run_id == run_id, Item.status == ItemStatus.PENDING)
        .values(status=ItemStatus.CANCELLED, finished_at=now),
        execution_options={"synchronize_session": False},
    ).rowcount  # type: ignore[attr-defined]
    session.execute(
        sa.update(Run)
        .where(Run.id == run_id, Run.completed_at.is_(None))
        .values(
            items_cancelled=Run.items_cancelled + cancelled,
            cancel_requested_at=sa.func.coalesce(Run.cancel_requested_at, now),
        ),
        execution_options={"synchronize_session": False},
    )
    claim_completion(session, run_id, now)
    return int(cancelled)


def retry_failed(
    session: Session, firm_id: int, run_id: int, requested_by: str | None, now: datetime
) -> CreatedRun:
    """A new run (source ``retry``) of exactly the parent's failed items.

    Idempotent per parent (key ``retry-of-<id>``): a double click returns the first retry.
    """
    key = f"retry-of-{run_id}"
    _ensure_parent_finished(session, firm_id, run_id)
    existing = _existing(session, firm_id, key)
    if existing is not None:
        return existing
    modules = _failed_modules(session, run_id)
    if not modules:
        raise RunRefused("nothing_failed", f"no item of run {run_id} failed: nothing to retry")
    request = RunRequest(
        firm_id=firm_id,
        modules=modules,
        source=RunSource.RETRY,
        idempotency_key=key,
        priority=DEFAULT_PRIORITY[RunSource.RETRY],
        requested_by=requested_by,
        parent_run_id=run_id,
    )
    new_id = _insert_run(session, request, modules, now, {"kind": "retry", "parent": run_id})
    if new_id is None:
        found = _existing(session, firm_id, key)
        assert found is not None, "unique violation without a visible winner"
        return found
    total = item_insert.failed_of(session, new_id, run_id, now)
    _set_total(session, new_id, total, _distinct_clients(session, new_id))
    return CreatedRun(run_id=new_id, created=True, total_items=total)


def _distinct_clients(session: Session, run_id: int) -> int:
    query = sa.select(sa.func.count(sa.distinct(Item.client_id))).where(Item.run_id == run_id)
    return int(session.scalar(query) or 0)


def _ensure_parent_finished(session: Session, firm_id: int, run_id: int) -> None:
    """RunNotFound for another firm's run, RunRefused while it still runs."""
    completed_at = session.execute(
        sa.select(Run.completed_at).where(Run.id == run_id, Run.firm_id == firm_id)
    ).one_or_none()
    if completed_at is None:
        raise RunNotFound(run_id)
    if completed_at[0] is None:
        raise RunRefused(
            "parent_not_finished", f"run {run_id} is still in progress: retry it once it ends"
        )


def _failed_modules(session: Session, run_id: int) -> list[ModuleKey]:
    found = set(
        session.scalars(
            sa.select(Item.module)
            .where(Item.run_id == run_id, Item.status == ItemStatus.FAILED)
            .distinct()
        )
    )
    return [key for key in ModuleKey if key.value in found]
