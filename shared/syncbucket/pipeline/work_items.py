"""The worker's own writes and reads of an item: start it, load what it needs, park it.

Everything else about an item (its outcome, counters, final status) is the aggregator's,
through ``apply_outcome``, with one exception: an item of a run being cancelled is
cancelled here when a worker picks it up (a retry waiting in the broker when the cancel
came), the way ``cancel_pending`` cancels pending ones. Credentials are decrypted here and
never leave the process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.contracts.messages import WorkMessage
from syncbucket.crypto import CredentialCipher, DecryptionFailed, PortalCredentials
from syncbucket.db.clients import Client, ClientCredential
from syncbucket.db.items import Item
from syncbucket.db.runs import Run
from syncbucket.domain.runs import ItemStatus
from syncbucket.pipeline.completion import claim_completion
from syncbucket.pipeline.retry_policy import Failure
from syncbucket.portals.errors import ErrorCode

CREDENTIALS_UNREADABLE = "credentials_unreadable"
# ``pending`` too: the dispatcher publishes BEFORE it commits ``queued`` (a failed publish
# rolls the tick back), so a fast worker can meet its item still ``pending``. On PostgreSQL
# the UPDATE then waits on the dispatcher's row lock and re-checks the committed row; on
# SQLite writers are serialised. If the dispatcher's commit failed, running the item is
# still right: it is no longer pending, so it is not released again. (Measured: with
# ``queued``/``running`` only, an item was dropped and left ``queued`` for the reaper.)
_RUNNABLE = (ItemStatus.PENDING, ItemStatus.QUEUED, ItemStatus.RUNNING)
_PORTAL_TITLES = {"traces": "TRACES", "itportal": "IT portal"}


@dataclass(frozen=True)
class Target:
    """Who to log in as: the client's TAN and its credentials for the item's portal."""

    tan: str
    credentials: PortalCredentials


def mark_running(
    session: Session, message: WorkMessage, attempt: int, now: datetime, deadline: datetime
) -> bool:
    """``pending``/``queued``/``running`` -> ``running``; False when cancelled or finished.

    Also False when the run is being cancelled: the item is then cancelled right here.
    """
    if _cancel_requested(session, message.run_id):
        cancel_item(session, message, now)
        return False
    stmt = (
        sa.update(Item)
        .where(
            Item.id == message.item_id,
            Item.run_id == message.run_id,
            Item.status.in_(_RUNNABLE),
        )
        .values(status=ItemStatus.RUNNING, attempts=attempt, started_at=now, deadline_at=deadline)
        .execution_options(synchronize_session=False)
    )
    result = cast(sa.CursorResult[Any], session.execute(stmt))
    return result.rowcount > 0


def _cancel_requested(session: Session, run_id: int) -> bool:
    found = session.scalar(sa.select(Run.cancel_requested_at).where(Run.id == run_id))
    return found is not None


def cancel_item(session: Session, message: WorkMessage, now: datetime) -> bool:
    """Cancel the item (if not finished yet), count it, and try to complete its run.

    Item first, run second: the lock order of ``cancel_pending``, the aggregator and the
    reaper. True when this call cancelled it.
    """
    cancelled = cast(
        sa.CursorResult[Any],
        session.execute(
            sa.update(Item)
            .where(
                Item.id == message.item_id,
                Item.run_id == message.run_id,
                Item.status.in_(_RUNNABLE),
            )
            .values(status=ItemStatus.CANCELLED, finished_at=now, deadline_at=None)
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    if cancelled == 0:
        return False
    session.execute(
        sa.update(Run)
        .where(Run.id == message.run_id)
        .values(items_cancelled=Run.items_cancelled + cancelled)
        .execution_options(synchronize_session=False)
    )
    claim_completion(session, message.run_id, now)
    return True


def mark_reported(session: Session, message: WorkMessage, deadline: datetime) -> bool:
    """The item's final outcome is in the results queue: keep the reaper off until
    ``deadline`` (never earlier than the deadline it had), so a lagging aggregator does
    not see the item re-released, fetched again and finally failed as ``timed_out``.
    """
    stmt = (
        sa.update(Item)
        .where(
            Item.id == message.item_id,
            Item.run_id == message.run_id,
            Item.status == ItemStatus.RUNNING,
            sa.or_(Item.deadline_at.is_(None), Item.deadline_at < deadline),
        )
        .values(deadline_at=deadline)
        .execution_options(synchronize_session=False)
    )
    result = cast(sa.CursorResult[Any], session.execute(stmt))
    return result.rowcount > 0


def park_for_retry(session: Session, message: WorkMessage, deadline: datetime) -> None:
    """Back to ``queued`` while the retry waits, with a deadline past the retry's start.

    The reaper then leaves it alone unless the delayed message is lost.
    """
    stmt = (
        sa.update(Item)
        .where(Item.id == message.item_id, Item.status == ItemStatus.RUNNING)
        .values(status=ItemStatus.QUEUED, deadline_at=deadline)
        .execution_options(synchronize_session=False)
    )
    session.execute(stmt)


def load_target(
    session: Session, message: WorkMessage, cipher: CredentialCipher
) -> Target | Failure:
    """The client's TAN and decrypted credentials for the portal, or why they are missing."""
    row = session.execute(
        sa.select(Client.tan, Client.name, ClientCredential.secret)
        .outerjoin(
            ClientCredential,
            sa.and_(
                ClientCredential.client_id == Client.id,
                ClientCredential.portal == message.portal,
            ),
        )
        .where(Client.id == message.client_id, Client.firm_id == message.firm_id)
    ).first()
    if row is None:
        return Failure(
            str(ErrorCode.MISSING_CREDENTIALS),
            f"client {message.client_id} no longer exists in this firm's client master",
        )
    tan, name, secret = row
    if secret is None:
        return _missing(message.portal, name, tan)
    try:
        return Target(tan=tan, credentials=cipher.decrypt(secret))
    except DecryptionFailed as exc:
        return Failure(CREDENTIALS_UNREADABLE, f"client {name} (TAN {tan}): {exc}")


def _missing(portal: str, name: str, tan: str) -> Failure:
    where = _PORTAL_TITLES.get(portal, portal)
    return Failure(
        str(ErrorCode.MISSING_CREDENTIALS),
        f"no {where} login is stored for client {name} (TAN {tan}): add the {where} user id "
        f"and password to the client master (CSV columns {portal}_user and {portal}_password, "
        "then `syncbucket clients import`) and re-sync the failed items",
    )


def deadline_after(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)
