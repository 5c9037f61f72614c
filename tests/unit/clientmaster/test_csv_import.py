from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.clientmaster.csv_import import NO_CREDENTIALS, import_clients_csv
from syncbucket.clientmaster.csv_rows import RowError
from syncbucket.clientmaster.errors import CsvFormatError
from syncbucket.crypto import CredentialCipher, PortalCredentials
from syncbucket.db.clients import Client, ClientCredential
from syncbucket.db.firms import Firm
from tests.support.csvfiles import HEADER, MIXED_ROWS, SECRET_MARK, write_csv


def credentials(
    session: Session, cipher: CredentialCipher, tan: str
) -> dict[str, PortalCredentials]:
    query = (
        sa.select(ClientCredential)
        .join(Client, Client.id == ClientCredential.client_id)
        .where(Client.tan == tan)
    )
    return {c.portal: cipher.decrypt(c.secret) for c in session.scalars(query)}


def test_mixed_file_imports_good_rows_and_reports_bad_ones(
    session: Session, firm: Firm, cipher: CredentialCipher, tmp_path: Path
) -> None:
    report = import_clients_csv(
        session, firm.id, write_csv(tmp_path / "c.csv", *MIXED_ROWS), cipher
    )
    assert (report.new, report.updated, report.rejected) == (2, 0, 3)
    assert [e.line for e in report.errors] == [3, 4, 5]
    assert report.errors[2] == RowError(5, "TAN DELA12345B already appears on line 2")
    assert report.summary() == (
        "2 imported (2 new, 0 updated), 3 rejected, 1 saved without any portal credentials"
    )
    assert [str(w) for w in report.warnings] == [f"line 6: {NO_CREDENTIALS}"]
    tans = set(session.scalars(sa.select(Client.tan).where(Client.firm_id == firm.id)))
    assert tans == {"DELA12345B", "MUMB54321C"}
    stored = credentials(session, cipher, "DELA12345B")
    assert stored["traces"] == PortalCredentials("DELA12345B", f"{SECRET_MARK}-1")
    assert stored["itportal"] == PortalCredentials("DELA12345B", f"{SECRET_MARK}-2")
    assert credentials(session, cipher, "MUMB54321C") == {}
    secrets = session.execute(sa.select(ClientCredential.secret)).scalars().all()
    assert secrets and all(SECRET_MARK not in s and "DELA12345B" not in s for s in secrets)


def test_existing_tan_is_updated_not_duplicated(
    session: Session, firm: Firm, cipher: CredentialCipher
) -> None:
    first = f"{HEADER}\nAcme,DELA12345B,ABCCA1234F,DELA12345B,old-t,DELA12345B,old-i\n"
    import_clients_csv(session, firm.id, io.StringIO(first), cipher)
    client = session.scalars(sa.select(Client)).one()
    client.demo_note = "wrong traces password (demo)"
    again = f"{HEADER}\nAcme Renamed,dela12345b,ABCCA9999F,DELA12345B,new-t,,\n"
    report = import_clients_csv(session, firm.id, io.StringIO(again), cipher)
    assert (report.new, report.updated, report.rejected) == (0, 1, 0)
    row = session.scalars(sa.select(Client)).one()
    assert (row.id, row.name, row.pan, row.demo_note) == (
        client.id,
        "Acme Renamed",
        "ABCCA9999F",
        None,
    )
    stored = credentials(session, cipher, "DELA12345B")
    assert stored["traces"].password == "new-t"
    assert stored["itportal"].password == "old-i"  # empty pair: left unchanged
    assert session.scalar(sa.select(sa.func.count()).select_from(ClientCredential)) == 2


def test_same_tan_in_another_firm_is_another_client(
    session: Session, firm: Firm, cipher: CredentialCipher
) -> None:
    other = Firm(name="Second Firm")
    session.add(other)
    session.flush()
    text = f"{HEADER}\nAcme,DELA12345B,ABCCA1234F,,,,\n"
    assert import_clients_csv(session, firm.id, io.StringIO(text), cipher).new == 1
    assert import_clients_csv(session, other.id, io.StringIO(text), cipher).new == 1
    assert session.scalar(sa.select(sa.func.count()).select_from(Client)) == 2


def test_missing_column_is_a_clear_file_error(
    session: Session, firm: Firm, cipher: CredentialCipher, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "c.csv", "Acme,DELA12345B,ABCCA1234F", header="name,tan,pan")
    with pytest.raises(CsvFormatError, match="missing column"):
        import_clients_csv(session, firm.id, path, cipher)
    assert session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0


def test_unreadable_files(
    session: Session, firm: Firm, cipher: CredentialCipher, tmp_path: Path
) -> None:
    with pytest.raises(CsvFormatError, match="no such file"):
        import_clients_csv(session, firm.id, tmp_path / "absent.csv", cipher)
    latin = tmp_path / "latin.csv"
    latin.write_bytes((HEADER + "\nCaf\xe9,DELA12345B,ABCCA1234F,,,,\n").encode("latin-1"))
    with pytest.raises(CsvFormatError, match="not UTF-8"):
        import_clients_csv(session, firm.id, latin, cipher)


def test_excel_bom_is_accepted(
    session: Session, firm: Firm, cipher: CredentialCipher, tmp_path: Path
) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(("\ufeff" + HEADER + "\r\nAcme,DELA12345B,ABCCA1234F,,,,\r\n").encode())
    assert import_clients_csv(session, firm.id, path, cipher).new == 1


def test_passwords_never_reach_logs_reports_or_errors(
    session: Session,
    firm: Firm,
    cipher: CredentialCipher,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    path = write_csv(tmp_path / "c.csv", *MIXED_ROWS)
    report = import_clients_csv(session, firm.id, path, cipher)
    assert "3 rejected" in caplog.text
    texts = [caplog.text, repr(report), report.summary(), *(str(e) for e in report.errors)]
    assert all(SECRET_MARK not in text for text in texts)
    broken = write_csv(
        tmp_path / "b.csv", f"Acme,DELA12345B,ABCCA1234F,u,{SECRET_MARK}", header="name"
    )
    with pytest.raises(CsvFormatError) as info:
        import_clients_csv(session, firm.id, broken, cipher)
    assert SECRET_MARK not in str(info.value) and SECRET_MARK not in repr(info.value)
