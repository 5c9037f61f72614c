"""A seeded SQLite database and a stand-in for the dispatcher + workers + aggregator.

``finish_items`` applies outcomes through the real aggregator function, so counters,
completion and the outbox behave exactly as in production.
"""

from __future__ import annotations

import sqlalchemy as sa

from syncbucket.clientmaster.seed import seed_demo
from syncbucket.contracts.messages import OutcomeMessage
from syncbucket.crypto import CredentialCipher
from syncbucket.db.base import utcnow
from syncbucket.db.clients import Client
from syncbucket.db.items import Item
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.domain.runs import ItemStatus
from syncbucket.pipeline.aggregator import apply_outcome


def seed(factory: SessionFactory, cipher: CredentialCipher, count: int, firm: str) -> list[str]:
    with unit_of_work(factory) as session:
        seed_demo(session, count, cipher, firm)
        return list(session.scalars(sa.select(Client.tan).order_by(Client.id)))


def finish_items(
    factory: SessionFactory, run_id: int, failing_tans: frozenset[str] = frozenset()
) -> int:
    """Give every open item of the run an outcome; items of ``failing_tans`` fail."""
    with unit_of_work(factory) as session:
        rows = session.execute(
            sa.select(Item.id, Client.tan)
            .join(Client, Client.id == Item.client_id)
            .where(Item.run_id == run_id, Item.status == ItemStatus.PENDING)
            .order_by(Item.id)
        ).all()
    for item_id, tan in rows:
        failed = tan in failing_tans
        outcome = OutcomeMessage(
            item_id=item_id,
            run_id=run_id,
            status="failed" if failed else "succeeded",
            attempts=1,
            error_code="invalid_credentials" if failed else None,
            error_message="=login rejected" if failed else None,
        )
        with unit_of_work(factory) as session:
            apply_outcome(session, outcome, utcnow())
    return len(rows)
