"""``GET /clients``: the firm's clients, filtered, sorted and paged in SQL, as on the web page.

Which portals have credentials and what the portal said at the last login, per module
when it last synced and whether the last attempt failed; never a credential.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from syncbucket.clientmaster.directory import ClientEntry, SortKey, directory_page
from syncbucket.clientmaster.filters import ClientFilter, CredentialFilter, InvalidFilter
from syncbucket.db.session import unit_of_work
from syncbucket.domain.portals import ModuleKey
from syncbucket_coordinator.auth import Firm, Root
from syncbucket_coordinator.errors import ApiError
from syncbucket_coordinator.schemas import (
    ERROR_RESPONSES,
    ClientOut,
    ClientPage,
    ModuleStateOut,
)

router = APIRouter(tags=["clients"], responses=ERROR_RESPONSES)


def _out(entry: ClientEntry) -> ClientOut:
    return ClientOut(
        id=entry.id,
        name=entry.name,
        tan=entry.tan,
        pan=entry.pan,
        active=entry.active,
        portals=[c.portal.value for c in entry.credentials if c.state.value != "missing"],
        demo_note=entry.demo_note,
        credentials={c.portal.value: c.state.value for c in entry.credentials},
        modules={
            key.value: ModuleStateOut(
                last_success_at=state.last_success_at,
                last_attempt_at=state.last_attempt_at,
                last_failed=state.last_failed,
                error_code=state.error_code,
            )
            for key, state in entry.modules.items()
        },
    )


@router.get("/clients", response_model=ClientPage, summary="List the firm's clients")
def get_clients(
    firm: Firm,
    root: Root,
    limit: Annotated[int, Query(ge=1, le=500, description="page size")] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="from next_offset")] = 0,
    active: Annotated[bool | None, Query(description="only active / inactive ones")] = None,
    search: Annotated[
        str | None, Query(max_length=100, description="part of the name, or TAN/PAN prefix")
    ] = None,
    credentials: Annotated[CredentialFilter | None, Query(description="credential state")] = None,
    failed_last_time: Annotated[bool, Query(description="last attempt of a module failed")] = False,
    not_synced_days: Annotated[
        int | None, Query(ge=1, le=3650, description="no success for N days (or never)")
    ] = None,
    never_synced: Annotated[bool, Query(description="no module ever synced")] = False,
    module: Annotated[ModuleKey | None, Query(description="narrows the sync filters")] = None,
    sort: Annotated[SortKey, Query(description="order")] = SortKey.NAME,
    descending: Annotated[bool, Query()] = False,
) -> ClientPage:
    """The same filters as the Client Master page; ordered by ``sort`` then name."""
    chosen = ClientFilter(
        search=" ".join(search.split()) or None if search else None,
        active=active,
        credentials=credentials,
        failed_last_time=failed_last_time,
        not_synced_days=not_synced_days,
        never_synced=never_synced,
        module=module,
    )
    now: datetime = root.clock()
    try:
        with unit_of_work(root.sessions) as session:
            page = directory_page(
                session,
                firm.id,
                chosen,
                now,
                sort=sort,
                descending=descending,
                offset=offset,
                limit=limit,
            )
    except InvalidFilter as exc:  # pragma: no cover - the query types already refuse these
        raise ApiError(422, "invalid_request", str(exc)) from None
    return ClientPage(
        clients=[_out(entry) for entry in page.entries],
        total=page.total,
        next_offset=page.next_offset,
    )
