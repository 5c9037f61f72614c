"""The client CSV import on real PostgreSQL (issue 10): a NUL byte, which PostgreSQL
refuses in any text column, rejects its row instead of failing the whole import."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from syncbucket.clientmaster.csv_import import import_clients_csv
from syncbucket.crypto import CredentialCipher
from syncbucket.db.clients import Client
from syncbucket.db.firms import Firm
from syncbucket.db.session import SessionFactory, unit_of_work
from tests.support.csvfiles import HEADER, SECRET_MARK

pytestmark = pytest.mark.integration


def test_a_nul_byte_rejects_its_row_and_the_others_are_saved(
    pg_sessions: SessionFactory, cipher: CredentialCipher
) -> None:
    rows = [
        HEADER,
        f"Good A,PNEX00001Q,AAAPA0001A,PNEX00001Q,{SECRET_MARK}-a,,",
        f"Nul\x00 Traders,PNEX00002Q,AAAPA0002A,PNEX00002Q,{SECRET_MARK}\x00-n,,",
        f"Good B,PNEX00003Q,AAAPA0003A,PNEX00003Q,{SECRET_MARK}-b,,",
    ]
    with unit_of_work(pg_sessions) as session:
        firm = Firm(name="Nul Firm")
        session.add(firm)
        session.flush()
        text = "\n".join(rows) + "\n"
        report = import_clients_csv(session, firm.id, io.StringIO(text, newline=""), cipher)
        firm_id = firm.id
    assert (report.new, report.rejected) == (2, 1)
    assert [(p.column, e.line) for e in report.errors for p in e.listed()] == [
        ("name", 3),
        ("traces_password", 3),
    ]
    with unit_of_work(pg_sessions) as session:
        saved = set(session.scalars(sa.select(Client.tan).where(Client.firm_id == firm_id)))
    assert saved == {"PNEX00001Q", "PNEX00003Q"}
