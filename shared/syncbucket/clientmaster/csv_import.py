"""``syncbucket clients import``: upsert a firm's clients from a CSV by TAN.

A TAN already in the firm updates that client (name, PAN, and each portal credential
given in the row); a new TAN creates one. Bad rows are reported and skipped; the good
ones are saved in the caller's transaction. Credentials are encrypted before they reach
the session; nothing here logs or raises with a password in it.

The report accounts for every physical line of the file (docs/web.md, "Import
clients"): saved, rejected with a reason, or blank. A client left with no portal
credentials at all is saved -- the Client Master lists it under "credentials missing"
-- and named in ``warnings`` so nobody expects it to sync.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.clientmaster.csv_rows import (
    ClientRow,
    LineSpan,
    ParsedCsv,
    RowError,
    RowProblem,
    line_of_offset,
    parse_client_csv,
)
from syncbucket.clientmaster.errors import CsvFormatError
from syncbucket.clientmaster.sync_state import forget_login_state
from syncbucket.crypto import CredentialCipher
from syncbucket.db.clients import Client, ClientCredential

logger = logging.getLogger(__name__)
CHUNK = 500
NO_CREDENTIALS = (
    "no portal credentials: saved, but it cannot be synced until a TRACES or IT-portal "
    "user and password are added"
)


@dataclass
class ImportReport:
    """What an import did. ``errors`` are rejected rows; ``warnings`` are saved rows that
    need attention; ``spans`` cover every physical line of the file exactly once."""

    new: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    spans: list[LineSpan] = field(default_factory=list)
    line_count: int = 0
    blank_lines: int = 0

    @property
    def imported(self) -> int:
        return self.new + self.updated

    @property
    def rejected(self) -> int:
        return len(self.errors)

    def summary(self) -> str:
        text = (
            f"{self.imported} imported ({self.new} new, {self.updated} updated), "
            f"{self.rejected} rejected"
        )
        if self.warnings:
            text += f", {len(self.warnings)} saved without any portal credentials"
        if self.blank_lines:
            text += f", {self.blank_lines} blank line{'s' if self.blank_lines > 1 else ''} skipped"
        return text


def import_clients_csv(
    session: Session, firm_id: int, source: Path | TextIO, cipher: CredentialCipher
) -> ImportReport:
    """Validate ``source`` and save its good rows; raise :class:`CsvFormatError` if unreadable."""
    parsed = _parse(source)
    new, updated = save_clients(session, firm_id, parsed.rows, cipher)
    report = ImportReport(
        new=new,
        updated=updated,
        errors=parsed.errors,
        warnings=_without_credentials(session, firm_id, parsed.rows),
        spans=parsed.spans,
        line_count=parsed.line_count,
        blank_lines=parsed.blank_lines,
    )
    logger.info(
        "client import for firm %s: %s", firm_id, report.summary(), extra={"firm_id": firm_id}
    )
    return report


def _parse(source: Path | TextIO) -> ParsedCsv:
    if not isinstance(source, Path):
        return parse_client_csv(source)
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        raise CsvFormatError(f"{source}: no such file") from None
    return parse_client_csv(io.StringIO(decode_csv(data, name=str(source)), newline=""))


def decode_csv(data: bytes, *, name: str = "the file") -> str:
    """The text of a CSV file; :class:`CsvFormatError` naming the line of the first byte
    that is not UTF-8 (a spreadsheet saved as "CSV" in a legacy code page)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = line_of_offset(data, exc.start)
        raise CsvFormatError(
            f"{name} is not UTF-8 text (first bad byte on line {line}): "
            "save it as 'CSV UTF-8' and import it again"
        ) from None


def save_clients(
    session: Session, firm_id: int, rows: Sequence[ClientRow], cipher: CredentialCipher
) -> tuple[int, int]:
    """Insert or update ``rows`` (unique TANs) in firm ``firm_id``; return (new, updated)."""
    existing = _clients_by_tan(session, firm_id, [row.tan for row in rows])
    clients: list[tuple[ClientRow, Client]] = []
    for row in rows:
        client = existing.get(row.tan)
        if client is None:
            client = Client(firm_id=firm_id, tan=row.tan, name=row.name, pan=row.pan)
            session.add(client)
        else:
            client.name, client.pan = row.name, row.pan
        clients.append((row, client))
    session.flush()
    _save_credentials(session, clients, cipher)
    new = sum(1 for row in rows if row.tan not in existing)
    return new, len(rows) - new


def _without_credentials(
    session: Session, firm_id: int, rows: Sequence[ClientRow]
) -> list[RowError]:
    """A warning for each saved row whose client now has no credential for any portal
    (a row with empty credentials keeps what is stored, so only the database knows)."""
    bare = [row for row in rows if not row.credentials]
    if not bare:
        return []
    clients = _clients_by_tan(session, firm_id, [row.tan for row in bare])
    ids = [client.id for client in clients.values()]
    with_credentials = {client_id for client_id, _ in _credentials_by_key(session, ids)}
    problem = RowProblem(None, NO_CREDENTIALS)
    return [
        RowError.of(row.line, [problem], row.last_line)
        for row in bare
        if clients[row.tan].id not in with_credentials
    ]


def _clients_by_tan(session: Session, firm_id: int, tans: Sequence[str]) -> dict[str, Client]:
    found: dict[str, Client] = {}
    for start in range(0, len(tans), CHUNK):
        chunk = tans[start : start + CHUNK]
        query = sa.select(Client).where(Client.firm_id == firm_id, Client.tan.in_(chunk))
        found.update((client.tan, client) for client in session.scalars(query))
    return found


def _save_credentials(
    session: Session, clients: Sequence[tuple[ClientRow, Client]], cipher: CredentialCipher
) -> None:
    ids = [client.id for row, client in clients if row.credentials]
    stored = _credentials_by_key(session, ids)
    for row, client in clients:
        for portal, credentials in row.credentials.items():
            secret = cipher.encrypt(credentials)
            current = stored.get((client.id, portal.value))
            if current is None:
                session.add(
                    ClientCredential(client_id=client.id, portal=portal.value, secret=secret)
                )
            else:
                current.secret = secret
        if row.credentials:
            client.demo_note = None  # new credentials replace any deliberately wrong demo ones
            forget_login_state(session, client.id, [portal.value for portal in row.credentials])
    session.flush()


def _credentials_by_key(
    session: Session, client_ids: Sequence[int]
) -> dict[tuple[int, str], ClientCredential]:
    found: dict[tuple[int, str], ClientCredential] = {}
    for start in range(0, len(client_ids), CHUNK):
        chunk = client_ids[start : start + CHUNK]
        query = sa.select(ClientCredential).where(ClientCredential.client_id.in_(chunk))
        found.update(((c.client_id, c.portal), c) for c in session.scalars(query))
    return found
