"""The exception report as CSV, line by line: one format for the API and the CLI."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import TextIO

from syncbucket.pipeline.views import ExceptionRow

COLUMNS = (
    "client",
    "tan",
    "module",
    "portal",
    "error_code",
    "message",
    "attempts",
    "finished_at",
)
# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str | None) -> str:
    text = value or ""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _cells(row: ExceptionRow) -> list[str | int]:
    return [
        safe_cell(row.client_name),
        row.tan,
        row.module,
        row.portal,
        safe_cell(row.error_code),
        safe_cell(row.error_message),
        row.attempts,
        row.finished_at.isoformat(timespec="seconds") if row.finished_at else "",
    ]


def csv_lines(rows: Iterable[ExceptionRow]) -> Iterator[str]:
    """The header line, then one line per row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(_cells(row))
        yield buffer.getvalue()


def write_exception_csv(rows: Iterable[ExceptionRow], stream: TextIO) -> int:
    """Write the whole report to ``stream``; returns how many failed items it lists."""
    lines = csv_lines(rows)
    stream.write(next(lines))
    count = 0
    for line in lines:
        stream.write(line)
        count += 1
    return count
