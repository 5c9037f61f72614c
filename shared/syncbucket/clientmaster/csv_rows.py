"""Read and validate a client-master CSV; no database here.

Columns (header required, any order, case-insensitive)::

    name,tan,pan,traces_user,traces_password,itportal_user,itportal_password

A portal whose user and password are both empty keeps its stored credential (or has
none); a user without a password, or the reverse, is a bad row. Line numbers are the
file's own physical lines (the header is line 1; CRLF, CR and LF each end a line), and
every one of them is accounted for in :attr:`ParsedCsv.spans`: the header, a blank line,
a good row, or a rejected one -- a quote that is never closed names the lines it
swallowed instead of hiding them in one giant field (docs/web.md, "Import clients").
Reasons never quote a password.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
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
# A TAN or PAN is 10 letters and digits; a longer value, or one with other characters,
# is not echoed back in a reason (it may be a password pasted into the wrong column).
_MAX_QUOTED_IDENTIFIER = 12
# How csv ends a line; str.splitlines would also split on form feeds and U+2028.
_LINE_END = re.compile(r"\r\n|\r|\n")
# C0 controls and DEL, and the C1 block: no name, id or password holds one, and
# PostgreSQL refuses NUL in text outright. Tab and line ends in a name are tidied to a
# space instead (a quoted multi-line name is legitimate CSV).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NAME_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class ClientRow:
    line: int
    name: str
    tan: str
    pan: str
    credentials: Mapping[Portal, PortalCredentials]  # repr of each value hides it
    last_line: int | None = None  # set when a quoted field carries the row onto more lines


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong with a row; ``column`` is None when it is the row as a whole."""

    column: str | None
    reason: str


@dataclass(frozen=True)
class RowError:
    """A rejected row (or a warning about one): its line, every problem found (``reason``
    joins them), and ``last_line`` when the row covers more than one physical line."""

    line: int
    reason: str
    problems: tuple[RowProblem, ...] = field(default=(), compare=False)
    last_line: int | None = None

    @classmethod
    def of(cls, line: int, problems: list[RowProblem], last_line: int | None = None) -> RowError:
        last = last_line if last_line is not None and last_line > line else None
        return cls(line, "; ".join(p.reason for p in problems), tuple(problems), last)

    @property
    def lines(self) -> str:
        """``"3"``, or ``"3-5"`` for a row over several lines (what a page shows)."""
        return f"{self.line}-{self.last_line}" if self.last_line else str(self.line)

    def listed(self) -> tuple[RowProblem, ...]:
        """Every problem with its column (the whole row's reason when none was noted)."""
        return self.problems or (RowProblem(None, self.reason),)

    def __str__(self) -> str:
        label = "lines" if self.last_line else "line"
        return f"{label} {self.lines}: {self.reason}"


class LineUse(StrEnum):
    """What became of a physical line of the file."""

    HEADER = "header"
    BLANK = "blank"
    ROW = "row"  # a good row: saved by the import
    REJECTED = "rejected"


@dataclass(frozen=True)
class LineSpan:
    """Lines ``first``..``last`` (inclusive) of the file, used as ``use``."""

    first: int
    last: int
    use: LineUse


@dataclass
class ParsedCsv:
    rows: list[ClientRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # Every physical line exactly once, in order; ``line_count`` is how many there are.
    spans: list[LineSpan] = field(default_factory=list)
    line_count: int = 0

    @property
    def blank_lines(self) -> int:
        return sum(s.last - s.first + 1 for s in self.spans if s.use is LineUse.BLANK)


def split_lines(text: str) -> list[str]:
    """The physical lines of ``text`` with their endings, as csv reads them; a newline at
    the very end does not start another line."""
    lines: list[str] = []
    start = 0
    for match in _LINE_END.finditer(text):
        lines.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        lines.append(text[start:])
    return lines


def line_of_offset(data: bytes, offset: int) -> int:
    """The physical line (from 1) holding byte ``offset``, counted as :func:`split_lines`
    counts them, so a decoding error and a row error name the same line."""
    return len(re.findall(rb"\r\n|\r|\n", data[:offset])) + 1


class _Lines:
    """Hands csv one physical line at a time and notes whether it asked past the end:
    csv only does that mid-record when a quoted field is still open at end of file."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.read = 0
        self.past_end = False

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.read >= len(self.lines):
            self.past_end = True
            raise StopIteration
        self.read += 1
        return self.lines[self.read - 1]


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
    """Validate every row; good rows and bad rows (with lines and reasons) both come back,
    and every physical line of the file is in ``spans`` exactly once."""
    lines = _Lines(split_lines(stream.read()))
    reader = csv.reader(lines)
    try:
        header = read_header(reader)
    except csv.Error as exc:
        raise CsvFormatError(f"line 1: the header is not readable CSV ({exc})") from None
    parsed = ParsedCsv(line_count=len(lines.lines))
    parsed.spans.append(LineSpan(1, lines.read, LineUse.HEADER))
    first_line_of: dict[str, int] = {}
    while lines.read < len(lines.lines):
        first = lines.read + 1
        try:
            fields = next(reader)
        except StopIteration:  # pragma: no cover - lines remain, so csv returns a record
            break
        except csv.Error as exc:  # e.g. a field over csv's size limit; the next line reads on
            _reject(parsed, first, max(lines.read, first), f"malformed CSV ({exc})")
            continue
        last = lines.read
        if lines.past_end:
            _reject(parsed, first, last, _unclosed_quote(lines.lines[first - 1 : last], first))
        elif not any(cell.strip() for cell in fields):
            # blank line, or a spreadsheet's ",,,,,," filler
            parsed.spans.append(LineSpan(first, last, LineUse.BLANK))
        else:
            _accept(parsed, first_line_of, (first, last), header, fields)
    return parsed


def _reject(parsed: ParsedCsv, first: int, last: int, reason: str) -> None:
    parsed.errors.append(RowError.of(first, [RowProblem(None, reason)], last))
    parsed.spans.append(LineSpan(first, last, LineUse.REJECTED))


def _unclosed_quote(lines: list[str], first: int) -> str:
    """Why lines ``first``.. were all read as one field: name the line whose opening
    quote never closes (csv's rules: a quote opens a field only at the field's start,
    and ``""`` inside one is a literal quote)."""
    opened, quoted, at_start = first, False, True
    for number, text in enumerate(lines, start=first):
        i = 0
        while i < len(text):
            char = text[i]
            if quoted:
                if char == '"':
                    if text.startswith('"', i + 1):
                        i += 1
                    else:
                        quoted = False
            elif char == '"' and at_start:
                quoted, opened, at_start = True, number, False
            else:
                at_start = char in ",\r\n"
            i += 1
    reason = f"inside the quoted field opened on line {opened}, never closed"
    if opened != first:
        reason = f"the row on line {first} has a quoted field opened on line {opened}, never closed"
    return reason + ": close the quote (or remove it) and import the file again"


def _accept(
    parsed: ParsedCsv,
    first_line_of: dict[str, int],
    span: tuple[int, int],
    header: list[str],
    fields: list[str],
) -> None:
    line, last = span
    if len(fields) != len(header):
        reason = f"expected {len(header)} fields, found {len(fields)}"
        if last > line:
            reason += f" (a quoted field carries this row across lines {line}-{last})"
        _reject(parsed, line, last, reason)
        return
    row, problems = validate_row(line, dict(zip(header, fields, strict=True)))
    if row is not None and row.tan in first_line_of:
        reason = f"TAN {row.tan} already appears on line {first_line_of[row.tan]}"
        problems.append(RowProblem("tan", reason))
    if row is None or problems:
        parsed.errors.append(RowError.of(line, problems, last))
        parsed.spans.append(LineSpan(line, last, LineUse.REJECTED))
        return
    first_line_of[row.tan] = line
    if last > line:
        row = ClientRow(line, row.name, row.tan, row.pan, row.credentials, last)
    parsed.rows.append(row)
    parsed.spans.append(LineSpan(line, last, LineUse.ROW))


def validate_row(line: int, values: Mapping[str, str]) -> tuple[ClientRow | None, list[RowProblem]]:
    """Check one row's fields; return the row (``None`` if unusable) and every problem found.

    A control character (NUL, ESC, DEL...) in any field rejects the row before anything
    else is checked: PostgreSQL refuses NUL in text, and the value must not be echoed.
    """
    problems = control_characters(values)
    if problems:
        return None, problems
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


def control_characters(values: Mapping[str, str]) -> list[RowProblem]:
    """One problem per field holding a control character, naming the field and the
    character's code point, never the value."""
    problems: list[RowProblem] = []
    for column, value in values.items():
        found = (_NAME_CONTROL if column == "name" else _CONTROL).search(value)
        if found is not None:
            code = f"U+{ord(found.group()):04X}"
            problems.append(
                RowProblem(column, f"{column} contains a control character ({code}); remove it")
            )
    return problems


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
    value = raw.strip()
    if len(value) > _MAX_QUOTED_IDENTIFIER:
        reason = f"{column.upper()} is not valid: {len(value)} characters long, expected 10"
        problems.append(RowProblem(column, reason))
        return None
    if not (value.isascii() and value.isalnum()):
        reason = f"{column.upper()} is not valid: only letters and digits, expected 10"
        problems.append(RowProblem(column, reason))
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
