"""Add or edit one client: name, PAN, active, and each portal's credentials (write-only).

The same rules as the CSV import (:mod:`.csv_rows`), so a value the import refuses is
refused here with the same words. Credentials are write-only: a portal's user id and
password are replaced only when both are given, removed only when asked, and never read
back; new credentials clear what the portal said of the old ones ("not checked yet").
The TAN is the client's identity in the firm (the import matches on it) and stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.clientmaster.csv_import import save_clients
from syncbucket.clientmaster.csv_rows import (
    COLUMNS,
    RowProblem,
    clean_name,
    clean_pan,
    portal_credentials,
    validate_row,
)
from syncbucket.clientmaster.errors import ClientNotFound, InvalidClientEdit
from syncbucket.clientmaster.sync_state import forget_login_state
from syncbucket.crypto import CredentialCipher, PortalCredentials
from syncbucket.db.clients import Client, ClientCredential
from syncbucket.domain.portals import Portal


@dataclass(frozen=True)
class ClientEdit:
    name: str
    pan: str
    active: bool
    # Per portal: {"<portal>_user": ..., "<portal>_password": ...} as typed (may be empty).
    credential_fields: dict[str, str] = field(default_factory=dict, repr=False)
    remove_credentials: frozenset[Portal] = frozenset()


@dataclass(frozen=True)
class EditResult:
    changed_credentials: tuple[Portal, ...]
    removed_credentials: tuple[Portal, ...]


def edit_client(
    session: Session, firm_id: int, client_id: int, edit: ClientEdit, cipher: CredentialCipher
) -> EditResult:
    """Apply ``edit`` or raise :class:`InvalidClientEdit` for the first bad field."""
    client = session.get(Client, client_id)
    if client is None or client.firm_id != firm_id:
        raise ClientNotFound(f"client {client_id} not found")
    problems: list[RowProblem] = []
    name = clean_name(edit.name, problems)
    pan = clean_pan(edit.pan, problems)
    given: dict[Portal, PortalCredentials] = {}
    for portal in Portal:
        credentials = portal_credentials(portal, edit.credential_fields, problems)
        if credentials is not None:
            if portal in edit.remove_credentials:
                problems.append(
                    RowProblem(
                        f"{portal.value}_user",
                        f"give new {portal.value} credentials or remove them, not both",
                    )
                )
            given[portal] = credentials
    if problems or name is None or pan is None:
        first = problems[0]
        raise InvalidClientEdit(first.column or "client", first.reason)
    client.name, client.pan, client.active = name, pan, edit.active
    for portal, credentials in given.items():
        _store(session, client, portal, cipher.encrypt(credentials))
    removed = tuple(p for p in Portal if p in edit.remove_credentials and p not in given)
    if removed:
        session.execute(
            sa.delete(ClientCredential).where(
                ClientCredential.client_id == client.id,
                ClientCredential.portal.in_([p.value for p in removed]),
            )
        )
    touched = [p.value for p in (*given, *removed)]
    forget_login_state(session, client.id, touched)
    if given:
        client.demo_note = None
    session.flush()
    return EditResult(tuple(given), removed)


def add_client(
    session: Session, firm_id: int, values: dict[str, str], cipher: CredentialCipher
) -> int:
    """A new client from the same fields and rules as a CSV row; its id.

    A TAN already in the firm is refused (the import would update it; a form that says
    "add" must not overwrite a client).
    """
    row, problems = validate_row(0, {column: values.get(column, "") for column in COLUMNS})
    if row is None or problems:
        first = problems[0]
        raise InvalidClientEdit(first.column or "client", first.reason)
    taken = session.scalar(
        sa.select(Client.id).where(Client.firm_id == firm_id, Client.tan == row.tan)
    )
    if taken is not None:
        raise InvalidClientEdit("tan", f"TAN {row.tan} is already in the Client Master: edit it")
    save_clients(session, firm_id, [row], cipher)
    created = session.scalar(
        sa.select(Client.id).where(Client.firm_id == firm_id, Client.tan == row.tan)
    )
    assert created is not None
    return int(created)


def _store(session: Session, client: Client, portal: Portal, secret: str) -> None:
    current = session.scalars(
        sa.select(ClientCredential).where(
            ClientCredential.client_id == client.id, ClientCredential.portal == portal.value
        )
    ).first()
    if current is None:
        session.add(ClientCredential(client_id=client.id, portal=portal.value, secret=secret))
    else:
        current.secret = secret
