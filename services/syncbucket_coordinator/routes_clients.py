"""``GET /clients``: the firm's clients, filtered, sorted and paged in SQL, as on the web page.
``PATCH /clients/{id}``: change one client's name, PAN, active flag or portal logins.

Which portals have credentials and what the portal said at the last login, per module
when it last synced and whether the last attempt failed; never a credential.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from syncbucket.clientmaster.directory import ClientEntry, SortKey, client_entry, directory_page
from syncbucket.clientmaster.errors import ClientNotFound, InvalidClientEdit
from syncbucket.clientmaster.filters import ClientFilter, CredentialFilter, InvalidFilter
from syncbucket.clientmaster.patching import patch_client
from syncbucket.config import ConfigError
from syncbucket.crypto import CredentialCipher
from syncbucket.db.session import unit_of_work
from syncbucket.domain.portals import ModuleKey, Portal
from syncbucket_coordinator.auth import Firm, Root
from syncbucket_coordinator.errors import ApiError
from syncbucket_coordinator.schemas import (
    ERROR_RESPONSES,
    ClientOut,
    ClientPage,
    ErrorOut,
    ModuleStateOut,
    Responses,
)
from syncbucket_coordinator.schemas_clients import EditClientRequest
from syncbucket_coordinator.schemas_in import MAX_ID

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


EDIT_RESPONSES: Responses = {
    404: {
        "model": ErrorOut,
        "description": "no such client for this firm (another firm's client looks the same)",
        "content": {
            "application/json": {
                "example": {"error": "client_not_found", "message": "client 42 not found"}
            }
        },
    },
    422: {
        "model": ErrorOut,
        "description": "invalid request; ``fields`` names each offending field",
        "content": {
            "application/json": {
                "example": {
                    "error": "invalid_request",
                    "message": "credentials.traces.password: traces_password is empty but "
                    "traces_user is given",
                    "fields": [
                        {
                            "field": "credentials.traces.password",
                            "message": "traces_password is empty but traces_user is given",
                        }
                    ],
                }
            }
        },
    },
    503: {"model": ErrorOut, "description": "SYNCBUCKET_SECRET_KEY is not set (not_configured)"},
}


def _body_field(library_field: str) -> str:
    """The library's CSV column (``traces_user``) as the body's ``credentials.traces.user``."""
    portal, _, part = library_field.rpartition("_")
    if part in {"user", "password"} and portal in {p.value for p in Portal}:
        return f"credentials.{portal}.{part}"
    return library_field


@router.patch(
    "/clients/{client_id}",
    response_model=ClientOut,
    summary="Edit or deactivate one client",
    responses=EDIT_RESPONSES,
)
def patch_client_route(
    firm: Firm,
    root: Root,
    body: EditClientRequest,
    client_id: Annotated[int, Path(ge=1, le=MAX_ID, description="the client's id")],
) -> ClientOut:
    """Change only the fields given; the rules are the CSV import's and the web form's.

    Credentials are write-only: the answer says which portals have a login and what the
    portal said of it, never the login itself (docs/api.md, "Edit a client").
    """
    try:
        # As the web app's edit form does, the key is needed to save any edit.
        cipher = CredentialCipher(root.settings.require_secret_key())
    except ConfigError as exc:
        raise ApiError(503, "not_configured", str(exc)) from None
    try:
        with unit_of_work(root.sessions) as session:
            patch_client(session, firm.id, client_id, body.patch(), cipher)
            entry = client_entry(session, firm.id, client_id)
    except ClientNotFound as exc:
        raise ApiError(404, "client_not_found", str(exc)) from None
    except InvalidClientEdit as exc:
        field = _body_field(exc.field)
        raise ApiError(
            422,
            "invalid_request",
            f"{field}: {exc.message}",
            fields=[{"field": field, "message": exc.message}],
        ) from None
    return _out(entry)
