"""Generated client CSVs through the real import (issue 10): no exception escapes, every
physical line is accounted for exactly once, every good row that csv reads from its own
first line is saved, and no message quotes a password."""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from syncbucket.clientmaster.csv_import import ImportReport, import_clients_csv
from syncbucket.clientmaster.csv_rows import LineUse
from syncbucket.crypto import CredentialCipher
from syncbucket.db.clients import Client
from syncbucket.db.firms import Firm
from tests.support.csvfiles import HEADER, SECRET_MARK

pytestmark = pytest.mark.slow

CASES = 500
NAME_CHARS = st.characters(whitelist_categories=("L", "Nd"), whitelist_characters=" &.-'")
CONTROLS = [chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]]


@dataclass(frozen=True)
class Chunk:
    """Some lines of a generated file; ``tan`` is set for a good row."""

    text: str
    tan: str | None = None
    wild: bool = False  # may open a quote that runs into the following lines


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


@st.composite
def good_row(draw: st.DrawFn, number: int) -> Chunk:
    tan, pan = f"PNEX{number:05d}Q", f"AAAPA{number:04d}A"
    name = draw(st.text(NAME_CHARS, min_size=1, max_size=30).filter(str.strip))
    if draw(st.booleans()):
        name = _quote(name + draw(st.sampled_from(["", ",", '"', "\n", "\r\n"])) + "x")
    elif name.startswith('"'):
        name = "x" + name
    fields = [name, tan, pan]
    for portal in ("t", "i"):
        if draw(st.booleans()):
            fields += [f"{portal}user{number}", f"{SECRET_MARK}-{portal}{number}"]
        else:
            fields += ["", ""]
    return Chunk(",".join(fields), tan=tan)


@st.composite
def bad_row(draw: st.DrawFn, number: int) -> Chunk:
    tan, pan = f"PNEB{number:05d}Q", f"AAAPB{number:04d}A"
    fields = ["Bad", tan, pan, tan, f"{SECRET_MARK}-b{number}", "", ""]
    kind = draw(st.sampled_from(["control", "count", "tan", "huge", "text", "quote", "blank"]))
    if kind == "control":
        at = draw(st.integers(0, 6))
        fields[at] = fields[at][:1] + draw(st.sampled_from(CONTROLS)) + fields[at][1:]
        if at in (3, 4) or at == 5:
            fields[5], fields[6] = fields[5] or "u", fields[6] or f"{SECRET_MARK}-c"
    elif kind == "count":
        fields = fields[: draw(st.integers(1, 6))] + ([] if draw(st.booleans()) else ["x", "y"])
    elif kind == "tan":
        fields[1] = draw(st.text(max_size=15).filter(lambda t: not re.search(r"[\r\n\"]", t)))
        fields[1] = fields[1].replace(",", "") or "X"
    elif kind == "huge":
        fields[4] = "p" * draw(st.sampled_from([201, 5_000, 50_000]))
    elif kind == "blank":
        return Chunk(draw(st.sampled_from(["", ",,,,,,", "   ", " , ,"])))
    elif kind == "quote":
        return Chunk('"Unterminated,' + ",".join(fields[1:]), wild=True)
    else:
        # No CR at the end nor LF at the start: joined to its neighbours by CR or LF it
        # would make a CRLF out of two line ends, and first_lines() would miscount.
        return Chunk(draw(st.text(max_size=60)).rstrip("\r").lstrip("\n"), wild=True)
    return Chunk(",".join(fields))


@st.composite
def csv_file(draw: st.DrawFn) -> tuple[str, list[Chunk]]:
    chunks: list[Chunk] = []
    for number in range(draw(st.integers(0, 12))):
        row = good_row(number) if draw(st.booleans()) else bad_row(number)
        chunks.append(draw(row))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = ending.join([HEADER, *(c.text for c in chunks)])
    if draw(st.booleans()):
        text += ending
    return text, chunks


def physical_lines(text: str) -> int:
    ends = len(re.findall(r"\r\n|\r|\n", text))
    return ends + (0 if re.search(r"(\r\n|\r|\n)\Z", text) else 1)


def first_lines(text: str, chunks: list[Chunk]) -> list[tuple[int, Chunk]]:
    """Each chunk's first physical line (the header is line 1)."""
    found, line = [], 2
    for chunk in chunks:
        found.append((line, chunk))
        line += physical_lines(chunk.text) if chunk.text else 1
        line -= 1 if re.search(r"(\r\n|\r|\n)\Z", chunk.text) else 0
    return found


def check(report: ImportReport, text: str, chunks: list[Chunk], saved: set[str]) -> None:
    assert report.line_count == physical_lines(text)
    covered = [n for span in report.spans for n in range(span.first, span.last + 1)]
    assert covered == list(range(1, report.line_count + 1)), "each line exactly once"
    uses = {span.first: span for span in report.spans}
    rejected = [n for e in report.errors for n in range(e.line, (e.last_line or e.line) + 1)]
    rows = [n for s in report.spans if s.use is LineUse.ROW for n in range(s.first, s.last + 1)]
    assert sorted(rejected) == sorted(
        n for s in report.spans if s.use is LineUse.REJECTED for n in range(s.first, s.last + 1)
    )
    assert report.imported == sum(1 for s in report.spans if s.use is LineUse.ROW) == len(saved)
    assert rows is not None
    clean = True
    for line, chunk in first_lines(text, chunks):
        if chunk.tan is not None:
            if line in uses:
                assert uses[line].use is LineUse.ROW and chunk.tan in saved, (line, chunk)
            else:
                assert not clean, f"good row on line {line} swallowed with no wild line before"
        clean = clean and not chunk.wild
    everything = "\n".join([report.summary(), *map(str, report.errors + report.warnings)])
    assert SECRET_MARK not in everything and "p" * 201 not in everything


@settings(
    max_examples=CASES,
    deadline=None,
    database=None,
    # The same 500 files every run: CI must not fail on a case no one can reproduce;
    # widen the search by running with --hypothesis-seed=random when hunting.
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(generated=csv_file())
def test_generated_files_are_fully_accounted_for(
    session: Session, cipher: CredentialCipher, generated: tuple[str, list[Chunk]]
) -> None:
    text, chunks = generated
    firm = Firm(name=f"Fuzz {uuid.uuid4().hex}")
    session.add(firm)
    session.flush()
    report = import_clients_csv(session, firm.id, io.StringIO(text, newline=""), cipher)
    saved = set(session.scalars(sa.select(Client.tan).where(Client.firm_id == firm.id)))
    check(report, text, chunks, saved)
