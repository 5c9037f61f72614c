"""``syncbucket clients seed-demo``: N demo clients whose credentials the simulator accepts.

Idempotent by TAN: a re-run creates only the clients still missing. Bulk inserts (one
statement for the clients, one for their credentials) keep 10,000 clients to seconds;
the cost left is one Fernet encryption per credential.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.clientmaster.demo_clients import DemoClient, demo_client
from syncbucket.clientmaster.firms import get_or_create_firm
from syncbucket.crypto import CredentialCipher, PortalCredentials
from syncbucket.db.base import utcnow
from syncbucket.db.clients import Client, ClientCredential
from syncbucket.db.firms import Firm
from syncbucket.domain.portals import Portal
from syncbucket.portalsim.accounts import demo_password, demo_user_id, wrong_password

DEFAULT_DEMO_FIRM = "Demo Firm"
INSERT_CHUNK = 2_000


@dataclass(frozen=True)
class SeedReport:
    firm: Firm
    token: str | None  # plaintext API token, only when the firm was created now
    created: int
    existing: int
    wrong: int  # among the clients created now

    def summary(self) -> str:
        return (
            f"{self.created} demo clients created ({self.wrong} with a deliberately wrong "
            f"password), {self.existing} already present, in firm {self.firm.name!r}"
        )


def seed_demo(
    session: Session, count: int, cipher: CredentialCipher, firm_name: str = DEFAULT_DEMO_FIRM
) -> SeedReport:
    if count < 0:
        raise ValueError("count must be zero or more")
    firm, token = get_or_create_firm(session, firm_name)
    present = set(session.scalars(sa.select(Client.tan).where(Client.firm_id == firm.id)))
    wanted = [demo_client(index) for index in range(count)]
    missing = [client for client in wanted if client.tan not in present]
    _insert_clients(session, firm.id, missing)
    ids = _client_ids(session, firm.id)
    _insert_credentials(session, [(ids[c.tan], c) for c in missing], cipher)
    wrong = sum(1 for client in missing if client.wrong_portal is not None)
    return SeedReport(firm, token, len(missing), count - len(missing), wrong)


def _insert_clients(session: Session, firm_id: int, clients: Sequence[DemoClient]) -> None:
    now = utcnow()
    rows = [
        {
            "firm_id": firm_id,
            "name": c.name,
            "tan": c.tan,
            "pan": c.pan,
            "active": True,
            "demo_note": c.demo_note,
            "created_at": now,
            "updated_at": now,
        }
        for c in clients
    ]
    for start in range(0, len(rows), INSERT_CHUNK):
        session.execute(sa.insert(Client), rows[start : start + INSERT_CHUNK])


def _client_ids(session: Session, firm_id: int) -> dict[str, int]:
    query = sa.select(Client.tan, Client.id).where(Client.firm_id == firm_id)
    return dict(session.execute(query).all())


def _insert_credentials(
    session: Session, clients: Sequence[tuple[int, DemoClient]], cipher: CredentialCipher
) -> None:
    now = utcnow()
    rows = [
        {
            "client_id": client_id,
            "portal": portal.value,
            "secret": cipher.encrypt(demo_credentials(client, portal)),
            "updated_at": now,
        }
        for client_id, client in clients
        for portal in Portal
    ]
    for start in range(0, len(rows), INSERT_CHUNK):
        session.execute(sa.insert(ClientCredential), rows[start : start + INSERT_CHUNK])


def demo_credentials(client: DemoClient, portal: Portal) -> PortalCredentials:
    """What the simulator accepts for ``client`` -- or, for a marked client, what it refuses."""
    make_password = wrong_password if client.wrong_portal == portal else demo_password
    return PortalCredentials(
        user_id=demo_user_id(portal, client.tan), password=make_password(portal, client.tan)
    )
