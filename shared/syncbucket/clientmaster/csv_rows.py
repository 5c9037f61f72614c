"""Read and validate a client-master CSV; no database here.

Columns (header required, any order, case-insensitive)::

    name,tan,pan,traces_user,traces_password,itportal_user,itportal_password

A portal whose user and password are both empty keeps its stored credential (or has
none); a user without a password, or the reverse, is a bad row. Line numbers are the
file's own (the header is line 1). Reasons never quote a password.
"""

from __future__ import annotations

import csv
import re
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
# What a header cell looks like; anything else is quoted by position only, never by value.
_HEADER_LIKE = re.compile(r"^[a-z0-9_ ]{1,40}$")
# A portal user id or password longer than these is a pasting accident, not a credential.
MAX_USER_LENGTH = 100
MAX_PASSWORD_LENGTH = 200


@dataclass(frozen=True)
class ClientRow:
    line: int
    name: str
    tan: str
    pan: str
    credentials: Mapping[Portal, PortalCredentials]  # repr of each value hides it


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong with a row; ``column`` is None when it is the row as a whole."""

    column: str | None
    reason: str


@dataclass(frozen=True)
class RowError:
    """A rejected row: its line, every problem found (``reason`` joins them)."""

    line: int
    reason: str
    problems: tuple[RowProblem, ...] = field(default=(), compare=False)

    @classmethod
    def of(cls, line: int, problems: list[RowProblem]) -> RowError:
        return cls(line, "; ".join(p.reason for p in problems), tuple(problems))

    def listed(self) -> tuple[RowProblem, ...]:
        """Every problem with its column (the whole row's reason when none was noted)."""
        return self.problems or (RowProblem(None, self.reason),)

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
    if not set(names) & set(COLUMNS):
        # Most likely a data row: quoting it would print the client's passwords.
        raise CsvFormatError(
            "bad header: the first line is not the header; "
            f"expected the columns {','.join(COLUMNS)}"
        )
    missing = [c for c in COLUMNS if c not in names]
    unknown = [
        n if _HEADER_LIKE.match(n) else "(a value that is not a column name)"
        for n in names
        if n not in COLUMNS
    ]
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
        parsed.errors.append(RowError.of(line, [RowProblem(None, reason)]))
        return
    row, problems = validate_row(line, dict(zip(header, fields, strict=True)))
    if row is not None and row.tan in first_line_of:
        reason = f"TAN {row.tan} already appears on line {first_line_of[row.tan]}"
        problems.append(RowProblem("tan", reason))
    if row is None or problems:
        parsed.errors.append(RowError.of(line, problems))
        return
    first_line_of[row.tan] = line
    parsed.rows.append(row)


def validate_row(line: int, values: Mapping[str, str]) -> tuple[ClientRow | None, list[RowProblem]]:
    """Check one row's fields; return the row (``None`` if unusable) and every problem found."""
    problems: list[RowProblem] = []
    name = clean_name(values["name"], problems)
    tan = _identifier(validate_tan, values["tan"], "tan", problems)
    pan = _identifier(validate_pan, values["pan"], "pan", problems)
    credentials = {
        portal: creds
        for portal in Portal
        if (creds := portal_credentials(portal, values, problems)) is not None
    }
    if name is None or tan is None or pan is None or problems:
        return None, problems
    return ClientRow(line, name, tan, pan, credentials), problems


def clean_name(raw: str, problems: list[RowProblem]) -> str | None:
    """A client's name with its spaces tidied, or None (and a problem) if unusable."""
    name = " ".join(raw.split())
    if not name:
        problems.append(RowProblem("name", "name is empty"))
        return None
    if len(name) > MAX_NAME_LENGTH:
        problems.append(RowProblem("name", f"name is longer than {MAX_NAME_LENGTH} characters"))
        return None
    return name


def clean_pan(raw: str, problems: list[RowProblem]) -> str | None:
    return _identifier(validate_pan, raw, "pan", problems)


def _identifier(
    validate: Callable[[str], str], raw: str, column: str, problems: list[RowProblem]
) -> str | None:
    if not raw.strip():
        problems.append(RowProblem(column, f"{column.upper()} is empty"))
        return None
    try:
        return validate(raw)
    except InvalidIdentifier as exc:
        problems.append(RowProblem(column, str(exc)))
        return None


def portal_credentials(
    portal: Portal, values: Mapping[str, str], problems: list[RowProblem]
) -> PortalCredentials | None:
    """The portal's user + password from ``<portal>_user`` / ``<portal>_password``.

    Both empty = none given (None, no problem); one without the other, or a value over
    its length limit, is a problem naming the column -- never quoting the value.
    """
    user_column, password_column = f"{portal.value}_user", f"{portal.value}_password"
    user = values.get(user_column, "").strip()
    password = values.get(password_column, "")
    has_password = bool(password.strip())
    if not user and not has_password:
        return None
    if not has_password:
        problems.append(
            RowProblem(password_column, f"{password_column} is empty but {user_column} is given")
        )
        return None
    if not user:
        problems.append(
            RowProblem(user_column, f"{user_column} is empty but {password_column} is given")
        )
        return None
    if len(user) > MAX_USER_LENGTH:
        problems.append(
            RowProblem(user_column, f"{user_column} is over {MAX_USER_LENGTH} characters")
        )
        return None
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(
            RowProblem(
                password_column, f"{password_column} is over {MAX_PASSWORD_LENGTH} characters"
            )
        )
        return None
    return PortalCredentials(user_id=user, password=password)
