"""docs/examples/clients.csv, the README's sample, imports cleanly and the simulator
accepts every credential in it."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.clientmaster.csv_import import import_clients_csv
from syncbucket.crypto import CredentialCipher
from syncbucket.db.clients import Client, ClientCredential
from syncbucket.db.firms import Firm
from syncbucket.domain.portals import Portal
from syncbucket.portalsim.accounts import demo_password, demo_user_id

SAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "clients.csv"


def test_the_sample_imports_with_simulator_accepted_credentials(
    session: Session, firm: Firm, cipher: CredentialCipher
) -> None:
    report = import_clients_csv(session, firm.id, SAMPLE, cipher)
    assert (report.new, report.rejected, report.warnings) == (5, 0, [])
    rows = session.execute(
        sa.select(Client.tan, ClientCredential.portal, ClientCredential.secret).join(
            ClientCredential, ClientCredential.client_id == Client.id
        )
    ).all()
    assert len(rows) == 10
    for tan, portal, secret in rows:
        stored = cipher.decrypt(secret)
        assert stored.user_id == demo_user_id(Portal(portal), tan)
        assert stored.password == demo_password(Portal(portal), tan)
