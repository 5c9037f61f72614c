from __future__ import annotations

import io

import pytest

from syncbucket.clientmaster.csv_rows import COLUMNS, RowError, parse_client_csv
from syncbucket.clientmaster.errors import CsvFormatError
from syncbucket.domain.portals import Portal

HEADER = ",".join(COLUMNS)


def parse(*lines: str, header: str = HEADER) -> tuple[list[int], list[RowError]]:
    parsed = parse_client_csv(io.StringIO("\n".join([header, *lines]) + "\n"))
    return [row.line for row in parsed.rows], parsed.errors


def test_good_rows_are_normalised() -> None:
    text = f"{HEADER}\n  Acme   Ltd ,dela12345b, abcca1234f ,DELA12345B,pw 1,,\n"
    row = parse_client_csv(io.StringIO(text)).rows[0]
    assert (row.line, row.name, row.tan, row.pan) == (2, "Acme Ltd", "DELA12345B", "ABCCA1234F")
    assert set(row.credentials) == {Portal.TRACES}
    assert row.credentials[Portal.TRACES].password == "pw 1"  # passwords are not trimmed


def test_columns_in_any_order_and_case() -> None:
    header = "PAN,Name,TAN,itportal_user,itportal_password,traces_user,traces_password"
    parsed = parse_client_csv(io.StringIO(f"{header}\nABCCA1234F,Acme,DELA12345B,u,p,,\n"))
    assert parsed.rows[0].tan == "DELA12345B" and set(parsed.rows[0].credentials) == {
        Portal.ITPORTAL
    }


def test_bad_rows_carry_their_line_numbers_and_reasons() -> None:
    lines, errors = parse(
        "Good,DELG12345A,ABCPG1234F,,,,",
        "Bad TAN,DEL123,ABCPG1234F,,,,",
        "Bad PAN,DELB12345A,ABCXB1234F,,,,",
        ",DELE12345A,ABCPE1234F,,,,",
        "Short,DELS12345A",
        "Good2,DELH12345A,ABCPH1234F,,,,",
    )
    assert lines == [2, 7]
    assert [(e.line, e.reason.split(" ")[0]) for e in errors] == [
        (3, "TAN"),
        (4, "PAN"),
        (5, "name"),
        (6, "expected"),
    ]
    assert "4th letter 'X' is not a holder type" in errors[1].reason
    assert errors[3].reason == "expected 7 fields, found 2"
    assert str(errors[0]).startswith("line 3: TAN 'DEL123' is not valid")


def test_every_problem_of_a_row_is_reported() -> None:
    _, errors = parse(",BAD,BAD,user,,,")
    reason = errors[0].reason
    assert "name is empty" in reason and "TAN 'BAD'" in reason and "PAN 'BAD'" in reason
    assert "traces_password is empty but traces_user is given" in reason


def test_credential_pairs() -> None:
    lines, errors = parse(
        "Both,DELA12345A,ABCPA1234F,u,p,u2,p2",
        "None,DELB12345A,ABCPB1234F,,,,",
        "User only,DELC12345A,ABCPC1234F,u,,,",
        "Password only,DELD12345A,ABCPD1234F,,,,secret-pw",
        "Blank password,DELE12345A,ABCPE1234F,u,   ,,",
    )
    assert lines == [2, 3]
    assert [e.line for e in errors] == [4, 5, 6]
    assert errors[1].reason == "itportal_user is empty but itportal_password is given"
    assert all("secret-pw" not in e.reason for e in errors)


def test_duplicate_tan_names_the_first_line() -> None:
    lines, errors = parse(
        "First,DELA12345A,ABCPA1234F,,,,",
        "Other,DELB12345A,ABCPB1234F,,,,",
        "Again,dela12345a,ABCPA1234F,,,,",
    )
    assert lines == [2, 3]
    assert errors == [RowError(4, "TAN DELA12345A already appears on line 2")]


def test_blank_lines_are_skipped_and_line_numbers_stay_true() -> None:
    lines, errors = parse("", ",,,,,,", "Acme,DELA12345A,ABCPA1234F,,,,", "   ", "x,BAD,,,,,")
    assert lines == [4]
    assert [e.line for e in errors] == [6]


def test_quoted_multiline_field_keeps_following_line_numbers() -> None:
    lines, errors = parse('"Acme\nLtd",DELA12345A,ABCPA1234F,,,,', "Bad,BAD,ABCPA1234F,,,,")
    assert lines == [2]
    assert [e.line for e in errors] == [4]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("name,tan,pan", "missing column(s): 'traces_user', 'traces_password'"),
        (HEADER + ",email", "unknown column(s): 'email'"),
        (HEADER + ",tan", "repeated column(s): 'tan'"),
        ("DELA12345B,ABCPA1234F", "the first line is not the header"),
    ],
)
def test_bad_header_is_a_file_error(header: str, message: str) -> None:
    with pytest.raises(CsvFormatError, match="bad header") as info:
        parse_client_csv(io.StringIO(header + "\n"))
    assert message in str(info.value) and HEADER in str(info.value)


def test_empty_file() -> None:
    with pytest.raises(CsvFormatError, match="the file is empty"):
        parse_client_csv(io.StringIO(""))


def test_a_file_without_its_header_never_quotes_the_first_row() -> None:
    row = "Acme Traders,DELA12345B,ABCPE1234F,ACME_T,S3cret-Traces!,acme.it,It-P@ss2025"
    with pytest.raises(CsvFormatError) as refused:
        parse_client_csv(io.StringIO(row + "\n"))
    assert "the first line is not the header" in str(refused.value)
    assert "S3cret" not in str(refused.value) and "acme" not in str(refused.value).lower()
    mixed = "name,tan,pan,traces_user,traces_password,itportal_user,It-P@ss2025\n"
    with pytest.raises(CsvFormatError) as partly:
        parse_client_csv(io.StringIO(mixed))
    assert "It-P@ss2025" not in str(partly.value) and "itportal_password" in str(partly.value)
