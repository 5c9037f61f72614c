"""Hostile client CSVs (issue 10): control characters, unclosed quotes, huge fields,
rows without credentials and files that are not UTF-8. Every physical line must be
accounted for in the report, and no message may quote a password."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.clientmaster.csv_import import ImportReport, import_clients_csv
from syncbucket.clientmaster.csv_rows import LineUse, parse_client_csv
from syncbucket.clientmaster.errors import CsvFormatError
from syncbucket.crypto import CredentialCipher
from syncbucket.db.clients import Client
from syncbucket.db.firms import Firm
from tests.support.csvfiles import HEADER, SECRET_MARK

ROW_A = f"Good A,PNEX00001Q,AAAPA0001A,PNEX00001Q,{SECRET_MARK}-a,,"
ROW_B = f"Good B,PNEX00003Q,AAAPA0003A,PNEX00003Q,{SECRET_MARK}-b,,"
ROW_C = f"Good C,PNEX00004Q,AAAPA0004A,PNEX00004Q,{SECRET_MARK}-c,,"


def run(session: Session, firm: Firm, cipher: CredentialCipher, *rows: str) -> ImportReport:
    text = "\n".join([HEADER, *rows]) + "\n"
    return import_clients_csv(session, firm.id, io.StringIO(text, newline=""), cipher)


def tans(session: Session, firm: Firm) -> set[str]:
    return set(session.scalars(sa.select(Client.tan).where(Client.firm_id == firm.id)))


def assert_every_line_accounted(report: ImportReport) -> None:
    covered = [n for s in report.spans for n in range(s.first, s.last + 1)]
    assert covered == list(range(1, report.line_count + 1))


def messages(report: ImportReport) -> str:
    return "\n".join([report.summary(), *map(str, report.errors + report.warnings)])


@pytest.mark.parametrize(
    ("column", "bad"),
    [
        ("name", "\x00"),
        ("tan", "\x00"),
        ("traces_password", "\x00"),
        ("traces_user", "\x1b"),
        ("itportal_password", "\x7f"),
        ("pan", "\x07"),
    ],
)
def test_a_control_character_rejects_its_row_and_names_the_column(
    session: Session, firm: Firm, cipher: CredentialCipher, column: str, bad: str
) -> None:
    values = {
        "name": "Nul Traders",
        "tan": "PNEX00002Q",
        "pan": "AAAPA0002A",
        "traces_user": "PNEX00002Q",
        "traces_password": f"{SECRET_MARK}-x",
        "itportal_user": "nul.it",
        "itportal_password": f"{SECRET_MARK}-y",
    }
    values[column] = values[column][:3] + bad + values[column][3:]
    report = run(session, firm, cipher, ROW_A, ",".join(values.values()), ROW_B)
    assert (report.new, report.rejected) == (2, 1)
    (error,) = report.errors
    assert error.line == 3
    assert [p.column for p in error.listed()] == [column]
    assert f"{column} contains a control character (U+{ord(bad):04X})" in str(error)
    assert tans(session, firm) == {"PNEX00001Q", "PNEX00003Q"}
    assert SECRET_MARK not in messages(report) and "\x00" not in messages(report)
    assert_every_line_accounted(report)


def test_a_quoted_multiline_name_is_still_fine() -> None:
    parsed = parse_client_csv(io.StringIO(f'{HEADER}\n"Acme\r\n\tLtd",DELA12345A,ABCPA1234F,,,,\n'))
    assert [(r.name, r.line, r.last_line) for r in parsed.rows] == [("Acme Ltd", 2, 3)]


def test_an_unclosed_quote_names_every_line_it_swallowed(
    session: Session, firm: Firm, cipher: CredentialCipher
) -> None:
    broken = f'"Unterminated,PNEX00002Q,AAAPA0002A,PNEX00002Q,{SECRET_MARK}-u,,'
    report = run(session, firm, cipher, ROW_A, broken, ROW_B, ROW_C)
    assert (report.imported, report.rejected) == (1, 1)
    assert [str(e) for e in report.errors] == [
        "lines 3-5: inside the quoted field opened on line 3, never closed: "
        "close the quote (or remove it) and import the file again"
    ]
    assert [(s.first, s.last, s.use) for s in report.spans] == [
        (1, 1, LineUse.HEADER),
        (2, 2, LineUse.ROW),
        (3, 5, LineUse.REJECTED),
    ]
    assert tans(session, firm) == {"PNEX00001Q"}
    assert SECRET_MARK not in messages(report)


def test_an_unclosed_quote_later_in_a_row_names_its_own_line() -> None:
    text = f'{HEADER}\n"Two\nLines",PNEX00002Q,AAAPA0002A,"x\n{ROW_B}\n'
    parsed = parse_client_csv(io.StringIO(text))
    assert [str(e) for e in parsed.errors] == [
        "lines 2-4: the row on line 2 has a quoted field opened on line 3, never closed: "
        "close the quote (or remove it) and import the file again"
    ]


def test_a_quote_closed_lines_later_names_the_whole_span() -> None:
    text = f'{HEADER}\n"Stray,PNEX00002Q,AAAPA0002A,,,,\n{ROW_B}\nend",x\n{ROW_C}\n'
    parsed = parse_client_csv(io.StringIO(text))
    assert [str(e) for e in parsed.errors] == [
        "lines 2-4: expected 7 fields, found 2 (a quoted field carries this row across lines 2-4)"
    ]
    assert [r.line for r in parsed.rows] == [5]


def test_blank_lines_are_counted_in_the_summary(
    session: Session, firm: Firm, cipher: CredentialCipher
) -> None:
    report = run(session, firm, cipher, ROW_A, "", ",,,,,,", ROW_B)
    assert report.summary() == "2 imported (2 new, 0 updated), 0 rejected, 2 blank lines skipped"
    assert_every_line_accounted(report)


@pytest.mark.parametrize("size", [201, 50_000, 200_000])
def test_a_huge_password_is_refused_with_a_reason(
    session: Session, firm: Firm, cipher: CredentialCipher, size: int
) -> None:
    huge = "Huge,PNEX00002Q,AAAPA0002A,PNEX00002Q," + "p" * size + ",,"
    report = run(session, firm, cipher, ROW_A, huge, ROW_B)
    assert (report.new, report.rejected) == (2, 1)
    (error,) = report.errors
    assert error.line == 3
    limit = "traces_password is over 200 characters" if size < 131_072 else "field larger"
    assert limit in error.reason and "ppp" not in messages(report)
    assert_every_line_accounted(report)


def test_long_names_and_ids_are_refused_without_echoing_them() -> None:
    long_tan = "T" * 300
    text = f"{HEADER}\n{'N' * 201},PNEX00002Q,AAAPA0002A,,,,\nX,{long_tan},AAAPA0002A,,,,\n"
    parsed = parse_client_csv(io.StringIO(text))
    reasons = [e.reason for e in parsed.errors]
    assert reasons[0] == "name is longer than 200 characters"
    assert reasons[1] == "TAN is not valid: 300 characters long, expected 10"


def test_a_row_without_credentials_is_saved_with_a_warning(
    session: Session, firm: Firm, cipher: CredentialCipher
) -> None:
    report = run(session, firm, cipher, ROW_A, "Bare,PNEX00002Q,AAAPA0002A,,,,")
    assert (report.new, report.rejected) == (2, 0)
    assert [w.line for w in report.warnings] == [3]
    assert "no portal credentials" in str(report.warnings[0])
    again = run(session, firm, cipher, "Good A renamed,PNEX00001Q,AAAPA0001A,,,,")
    assert again.updated == 1 and again.warnings == []  # keeps its stored credentials


def test_a_file_that_is_not_utf8_names_the_line_and_imports_nothing(
    session: Session, firm: Firm, cipher: CredentialCipher, tmp_path: Path
) -> None:
    path = tmp_path / "cp1252.csv"
    path.write_bytes(f"{HEADER}\r\n{ROW_A}\r\n{ROW_B}\rCaf".encode() + b"\xe9,PNEX00005Q,,,,,\r\n")
    with pytest.raises(CsvFormatError) as refused:
        import_clients_csv(session, firm.id, path, cipher)
    assert "first bad byte on line 4" in str(refused.value)
    assert "\n" not in str(refused.value) and SECRET_MARK not in str(refused.value)
    assert tans(session, firm) == set()


def test_crlf_and_a_missing_final_newline_keep_line_numbers() -> None:
    text = f"{HEADER}\r\n{ROW_A}\r\n\r\nx,BAD,,,,,"
    parsed = parse_client_csv(io.StringIO(text, newline=""))
    assert parsed.line_count == 4 and [e.line for e in parsed.errors] == [4]
    assert [r.line for r in parsed.rows] == [2]
