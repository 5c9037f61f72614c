"""Keep the client master's read models in step with each outcome (same transaction).

Called by :func:`syncbucket.pipeline.aggregator.apply_outcome` for every item that
reaches ``succeeded`` or ``failed`` (the reaper's ``timed_out`` included; ``skipped``
and ``cancelled`` items were never attempted and change nothing):

- ``client_module_state``: last attempt, its status and code; last success when it
  succeeded; then ``client_module_sync``, the module as a whole, recomputed from its
  parts (a module of two portal parts is synced only when both are);
- ``client_login_state``: ``ok`` after a success (the login worked), ``rejected`` or
  ``locked`` after the portal refused the credentials; any other failure says nothing
  about the credentials and leaves the state as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.db.client_state import ClientLoginState, ClientModuleState, ClientModuleSync
from syncbucket.db.upsert import insert_for
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.runs import ItemStatus
from syncbucket.portals.errors import ErrorCode
from syncbucket.portals.registry import parts_for

LOGIN_VERDICTS = {
    ErrorCode.INVALID_CREDENTIALS.value: "rejected",
    ErrorCode.LOCKED.value: "locked",
}


@dataclass(frozen=True)
class Attempted:
    firm_id: int
    client_id: int
    module: str
    portal: str
    run_id: int
    status: ItemStatus
    error_code: str | None


def note_attempt(session: Session, attempt: Attempted, now: datetime) -> None:
    if attempt.status not in (ItemStatus.SUCCEEDED, ItemStatus.FAILED):
        return
    _note_module(session, attempt, now)
    _refresh_module(session, attempt)
    verdict = (
        "ok"
        if attempt.status == ItemStatus.SUCCEEDED
        else LOGIN_VERDICTS.get(attempt.error_code or "")
    )
    if verdict is not None:
        _note_login(session, attempt, verdict, now)


def _note_module(session: Session, attempt: Attempted, now: datetime) -> None:
    succeeded = attempt.status == ItemStatus.SUCCEEDED
    values = {
        "last_attempt_at": now,
        "last_status": attempt.status.value,
        "last_error_code": None if succeeded else attempt.error_code,
        "last_run_id": attempt.run_id,
    }
    if succeeded:
        values |= {"last_success_at": now, "last_success_run_id": attempt.run_id}
    statement = insert_for(session, ClientModuleState).values(
        client_id=attempt.client_id,
        module=attempt.module,
        portal=attempt.portal,
        firm_id=attempt.firm_id,
        **values,
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["client_id", "module", "portal"], set_=values
        )
    )


def _refresh_module(session: Session, attempt: Attempted) -> None:
    if attempt.module not in ModuleKey._value2member_map_:
        return  # a module this version no longer knows: its parts stay, nothing to show
    parts = session.execute(
        sa.select(
            ClientModuleState.last_success_at,
            ClientModuleState.last_status,
            ClientModuleState.last_attempt_at,
        ).where(
            ClientModuleState.client_id == attempt.client_id,
            ClientModuleState.module == attempt.module,
        )
    ).all()
    successes = [row.last_success_at for row in parts if row.last_success_at is not None]
    values = {
        "synced_at": min(successes) if len(successes) == len(parts_for(attempt.module)) else None,
        "failed": any(row.last_status == ItemStatus.FAILED.value for row in parts),
        "attempted_at": max(row.last_attempt_at for row in parts),
    }
    statement = insert_for(session, ClientModuleSync).values(
        client_id=attempt.client_id, module=attempt.module, firm_id=attempt.firm_id, **values
    )
    session.execute(
        statement.on_conflict_do_update(index_elements=["client_id", "module"], set_=values)
    )


def _note_login(session: Session, attempt: Attempted, verdict: str, now: datetime) -> None:
    values = {"state": verdict, "observed_at": now, "run_id": attempt.run_id}
    statement = insert_for(session, ClientLoginState).values(
        client_id=attempt.client_id, portal=attempt.portal, **values
    )
    session.execute(
        statement.on_conflict_do_update(index_elements=["client_id", "portal"], set_=values)
    )


def forget_login_state(session: Session, client_id: int, portals: list[str]) -> None:
    """New credentials for these portals: what the portal said of the old ones is moot."""
    if portals:
        session.execute(
            sa.delete(ClientLoginState).where(
                ClientLoginState.client_id == client_id, ClientLoginState.portal.in_(portals)
            )
        )
