"""``GET /clients``: the firm's clients, paginated; which portals have credentials, never them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from syncbucket.clientmaster.listing import list_clients
from syncbucket.db.session import unit_of_work
from syncbucket_coordinator.auth import Firm, Root
from syncbucket_coordinator.schemas import ERROR_RESPONSES, ClientOut, ClientPage

router = APIRouter(tags=["clients"], responses=ERROR_RESPONSES)


@router.get("/clients", response_model=ClientPage, summary="List the firm's clients")
def get_clients(
    firm: Firm,
    root: Root,
    limit: Annotated[int, Query(ge=1, le=1000, description="page size")] = 100,
    offset: Annotated[int, Query(ge=0, description="clients to skip (from next_offset)")] = 0,
    active: Annotated[bool | None, Query(description="only active / inactive ones")] = None,
) -> ClientPage:
    """Ordered by name then TAN; ``portals`` lists the portals with stored credentials."""
    with unit_of_work(root.sessions) as session:
        clients = list_clients(session, firm.id)
    if active is not None:
        clients = [c for c in clients if c.active is active]
    page = clients[offset : offset + limit]
    more = offset + limit < len(clients)
    return ClientPage(
        clients=[ClientOut.model_validate(c.as_dict()) for c in page],
        total=len(clients),
        next_offset=offset + limit if more else None,
    )
