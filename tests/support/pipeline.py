"""Builders and fakes for tests of the sync pipeline (runs, outcomes, dispatch, reaper)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.contracts.messages import OutcomeMessage, WorkMessage
from syncbucket.db.clients import Client
from syncbucket.db.firms import Firm
from syncbucket.db.items import Item
from syncbucket.db.runs import Run
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.records import Record
from syncbucket.domain.runs import ItemStatus
from syncbucket.pipeline.record_codec import encode_all
from syncbucket.pipeline.requests import RunRequest
from syncbucket.pipeline.runs import CreatedRun, create_run

NOW = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
ALL_MODULES = list(ModuleKey)


def tan_for(index: int, prefix: str = "BLRA") -> str:
    return f"{prefix}{index:05d}A"


def add_firm(session: Session, name: str | None = None) -> int:
    firm = Firm(name=name or f"Firm {uuid.uuid4().hex[:8]}")
    session.add(firm)
    session.flush()
    return firm.id


def add_clients(
    session: Session, firm_id: int, count: int, *, active: bool = True, start: int = 0
) -> list[int]:
    """``count`` clients in one statement; TANs ``BLRA<index>A``, names ``Client <index>``."""
    rows = [
        {
            "firm_id": firm_id,
            "name": f"Client {index:05d}",
            "tan": tan_for(index),
            "pan": f"AAAPA{index:04d}A"[:10],
            "active": active,
        }
        for index in range(start, start + count)
    ]
    if rows:
        session.execute(sa.insert(Client), rows)
    return list(
        session.scalars(
            sa.select(Client.id)
            .where(Client.firm_id == firm_id, Client.tan.in_([r["tan"] for r in rows]))
            .order_by(Client.id)
        )
    )


def start_run(
    session: Session, firm_id: int, modules: Sequence[ModuleKey] = ALL_MODULES, **kw: Any
) -> CreatedRun:
    return create_run(session, RunRequest(firm_id=firm_id, modules=list(modules), **kw), now=NOW)


def item_ids(session: Session, run_id: int, status: ItemStatus | None = None) -> list[int]:
    query = sa.select(Item.id).where(Item.run_id == run_id).order_by(Item.id)
    if status is not None:
        query = query.where(Item.status == status)
    return list(session.scalars(query))


def item(session: Session, item_id: int) -> Item:
    return session.scalars(
        sa.select(Item).where(Item.id == item_id).execution_options(populate_existing=True)
    ).one()


def run(session: Session, run_id: int) -> Run:
    return session.scalars(
        sa.select(Run).where(Run.id == run_id).execution_options(populate_existing=True)
    ).one()


def outcome(
    item_id: int,
    run_id: int,
    status: str = "succeeded",
    records: Sequence[Record] = (),
    **kw: Any,
) -> OutcomeMessage:
    return OutcomeMessage(
        item_id=item_id,
        run_id=run_id,
        status=status,
        attempts=kw.pop("attempts", 1),
        records=encode_all(records),
        **kw,
    )


class FakePublisher:
    """Records what was published; ``fail=True`` makes the next publish raise."""

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.published: list[WorkMessage] = []

    def publish(self, messages: Sequence[WorkMessage]) -> None:
        if self.fail:
            raise ConnectionError("broker unreachable (fake)")
        self.published.extend(messages)
