"""What ``syncbucket clients list`` shows: clients and which portals have credentials."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.db.clients import Client, ClientCredential
from syncbucket.domain.portals import Portal

_PORTAL_ORDER = {portal.value: index for index, portal in enumerate(Portal)}


@dataclass(frozen=True)
class ClientSummary:
    id: int
    name: str
    tan: str
    pan: str
    active: bool
    portals: tuple[str, ...]  # portals with stored credentials, never the credentials
    demo_note: str | None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "tan": self.tan,
            "pan": self.pan,
            "active": self.active,
            "portals": list(self.portals),
            "demo_note": self.demo_note,
        }


def list_clients(session: Session, firm_id: int) -> list[ClientSummary]:
    portals: dict[int, list[str]] = {}
    query = (
        sa.select(ClientCredential.client_id, ClientCredential.portal)
        .join(Client, Client.id == ClientCredential.client_id)
        .where(Client.firm_id == firm_id)
    )
    for client_id, portal in session.execute(query):
        portals.setdefault(client_id, []).append(portal)
    clients = session.scalars(
        sa.select(Client).where(Client.firm_id == firm_id).order_by(Client.name, Client.tan)
    )
    return [
        ClientSummary(
            c.id, c.name, c.tan, c.pan, c.active, _ordered(portals.get(c.id, [])), c.demo_note
        )
        for c in clients
    ]


def _ordered(portals: list[str]) -> tuple[str, ...]:
    return tuple(sorted(portals, key=lambda p: (_PORTAL_ORDER.get(p, len(_PORTAL_ORDER)), p)))
