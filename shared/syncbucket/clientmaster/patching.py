"""Change some fields of one client, as ``PATCH /clients/{id}`` and ``clients edit`` do.

A patch names only what changes; everything it leaves out keeps its value. It is turned
into a full :class:`~syncbucket.clientmaster.editing.ClientEdit` and applied by
:func:`~syncbucket.clientmaster.editing.edit_client`, so the API, the CLI and the web
app's edit form accept and refuse exactly the same values with the same words (docs/api.md,
"Edit a client"). Credentials stay write-only: set or removed here, never read back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.clientmaster.editing import ClientEdit, EditResult, edit_client
from syncbucket.clientmaster.errors import ClientNotFound
from syncbucket.crypto import CredentialCipher
from syncbucket.db.clients import Client
from syncbucket.domain.identifiers import InvalidIdentifier, validate_tan
from syncbucket.domain.portals import Portal


@dataclass(frozen=True)
class PortalLogin:
    """A portal's user id and password, as typed. ``repr`` never shows the password."""

    user: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class ClientPatch:
    """``None`` = unchanged. ``set_credentials`` replaces a portal's login;
    ``remove_credentials`` deletes it (naming one portal in both is refused)."""

    name: str | None = None
    pan: str | None = None
    active: bool | None = None
    set_credentials: Mapping[Portal, PortalLogin] = field(default_factory=dict, repr=False)
    remove_credentials: frozenset[Portal] = frozenset()

    def is_empty(self) -> bool:
        return (
            self.name is None
            and self.pan is None
            and self.active is None
            and not self.set_credentials
            and not self.remove_credentials
        )


def patch_client(
    session: Session, firm_id: int, client_id: int, patch: ClientPatch, cipher: CredentialCipher
) -> EditResult:
    """Apply ``patch`` to the firm's client ``client_id``.

    Raises :class:`ClientNotFound` for an unknown client or another firm's (the same
    answer, so ids of other firms cannot be probed) and
    :class:`~syncbucket.clientmaster.errors.InvalidClientEdit` naming the first bad field.
    """
    client = session.get(Client, client_id)
    if client is None or client.firm_id != firm_id:
        raise ClientNotFound(f"client {client_id} not found")
    fields: dict[str, str] = {}
    for portal, login in patch.set_credentials.items():
        fields[f"{portal.value}_user"] = login.user
        fields[f"{portal.value}_password"] = login.password
    edit = ClientEdit(
        name=client.name if patch.name is None else patch.name,
        pan=client.pan if patch.pan is None else patch.pan,
        active=client.active if patch.active is None else patch.active,
        credential_fields=fields,
        remove_credentials=patch.remove_credentials,
    )
    return edit_client(session, firm_id, client_id, edit, cipher)


def client_id_by_tan(session: Session, firm_id: int, tan: str) -> int:
    """The id of the firm's client with TAN ``tan`` (the CLI names clients by TAN)."""
    try:
        normalised = validate_tan(tan)
    except InvalidIdentifier:
        normalised = tan.strip().upper()
    found = session.scalar(
        sa.select(Client.id).where(Client.firm_id == firm_id, Client.tan == normalised)
    )
    if found is None:
        raise ClientNotFound(
            f"no client with TAN {normalised} in this firm (syncbucket clients list)"
        )
    return int(found)
