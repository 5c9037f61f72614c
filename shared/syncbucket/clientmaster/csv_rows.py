"""Read and validate a client-master CSV; no database here.

Columns (header required, any order, case-insensitive)::

    name,tan,pan,traces_user,traces_password,itportal_user,itportal_password

A portal whose user and password are both empty keeps its stored credential (or has
none); a user without a password, or the reverse, is a bad row. Line numbers are the
file's own (the header is line 1). Reasons never quote a password.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TextIO

from syncbucket.clientmaster.errors import CsvFormatError
from syncbucket.crypto import PortalCredentials
from syncbucket.domain.identifiers import InvalidIdentifier, validate_pan, validate_tan
from syncbucket.domain.portals import Portal

COLUMNS = (
    "name",
    "tan",
    "pan",
    "traces_user",
    "traces_password",
    "itportal_user",
    "itportal_password",
)
MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class ClientRow:
    line: int
    name: str
    tan: str
    pan: str
    credentials: Mapping[Portal, PortalCredentials]  # repr of each value hides it


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ParsedCsv:
    rows: list[ClientRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def read_header(reader: Iterator[list[str]]) -> list[str]:
    header = next(reader, None)
    if header is None:
        raise CsvFormatError(f"the file is empty: expected a header line {','.join(COLUMNS)}")
    names = [cell.strip().lower() for cell in header]
    missing = [c for c in COLUMNS if c not in names]
    unknown = [n for n in names if n not in COLUMNS]
    repeated = sorted({n for n in names if names.count(n) > 1})
    problems = [
        f"{label} column(s): {', '.join(repr(c) for c in cols)}"
        for label, cols in (("missing", missing), ("unknown", unknown), ("repeated", repeated))
        if cols
    ]
    if problems:
        raise CsvFormatError(
            f"bad header ({'; '.join(problems)}); expected the columns {','.join(COLUMNS)}"
        )
    return names


def parse_client_csv(stream: TextIO) -> ParsedCsv:
    """Validate every row; good rows and bad rows (with line and reason) both come back."""
    reader = csv.reader(stream)
    header = read_header(reader)
    parsed = ParsedCsv()
    first_line_of: dict[str, int] = {}
    last_line = reader.line_num
    try:
        for fields in reader:
            line, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in fields):
                continue  # blank line, or a spreadsheet's ",,,,,," filler
            _accept(parsed, first_line_of, line, header, fields)
    except csv.Error as exc:
        raise CsvFormatError(f"line {reader.line_num}: malformed CSV ({exc})") from None
    return parsed


def _accept(
    parsed: ParsedCsv,
    first_line_of: dict[str, int],
    line: int,
    header: list[str],
    fields: list[str],
) -> None:
    if len(fields) != len(header):
        reason = f"expected {len(header)} fields, found {len(fields)}"
        parsed.errors.append(RowError(line, reason))
        return
    row, reasons = validate_row(line, dict(zip(header, fields, strict=True)))
    if row is not None and row.tan in first_line_of:
        reasons.append(f"TAN {row.tan} already appears on line {first_line_of[row.tan]}")
    if row is None or reasons:
        parsed.errors.append(RowError(line, "; ".join(reasons)))
        return
    first_line_of[row.tan] = line
    parsed.rows.append(row)


def validate_row(line: int, values: Mapping[str, str]) -> tuple[ClientRow | None, list[str]]:
    """Check one row's fields; return the row (``None`` if unusable) and every problem found."""
    reasons: list[str] = []
    name = " ".join(values["name"].split())
    if not name:
        reasons.append("name is empty")
    elif len(name) > MAX_NAME_LENGTH:
        reasons.append(f"name is longer than {MAX_NAME_LENGTH} characters")
    tan = _identifier(validate_tan, values["tan"], "TAN", reasons)
    pan = _identifier(validate_pan, values["pan"], "PAN", reasons)
    credentials = {
        portal: creds
        for portal in Portal
        if (creds := _credentials(portal, values, reasons)) is not None
    }
    if tan is None or pan is None or reasons:
        return None, reasons
    return ClientRow(line, name, tan, pan, credentials), reasons


def _identifier(
    validate: Callable[[str], str], raw: str, label: str, reasons: list[str]
) -> str | None:
    if not raw.strip():
        reasons.append(f"{label} is empty")
        return None
    try:
        return validate(raw)
    except InvalidIdentifier as exc:
        reasons.append(str(exc))
        return None


def _credentials(
    portal: Portal, values: Mapping[str, str], reasons: list[str]
) -> PortalCredentials | None:
    user = values[f"{portal.value}_user"].strip()
    password = values[f"{portal.value}_password"]
    has_password = bool(password.strip())
    if not user and not has_password:
        return None
    if not has_password:
        reasons.append(f"{portal.value}_password is empty but {portal.value}_user is given")
        return None
    if not user:
        reasons.append(f"{portal.value}_user is empty but {portal.value}_password is given")
        return None
    return PortalCredentials(user_id=user, password=password)
