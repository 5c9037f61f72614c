"""Finish a run's items directly through the aggregator, as workers would."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from syncbucket.contracts.messages import OutcomeMessage
from syncbucket.db.base import utcnow
from syncbucket.db.items import Item
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.pipeline.aggregator import apply_outcome

ItemRule = Callable[[Item], bool]


def finish_items(
    sessions: SessionFactory, run_id: int, fails: ItemRule, only: ItemRule | None = None
) -> None:
    """Apply a final outcome to each item of the run: failed where ``fails`` says so."""
    with unit_of_work(sessions) as session:
        items = list(session.scalars(sa.select(Item).where(Item.run_id == run_id)))
        for item in items:
            if only is not None and not only(item):
                continue
            failed = fails(item)
            outcome = OutcomeMessage(
                item_id=item.id,
                run_id=run_id,
                status="failed" if failed else "succeeded",
                attempts=3 if failed else 1,
                error_code="portal_error" if failed else None,
                error_message="=HYPERLINK(bad), portal said no" if failed else None,
            )
            apply_outcome(session, outcome, utcnow())
