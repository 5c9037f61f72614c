"""Upsert synced records by natural key, telling new from changed from unchanged.

Works the same on PostgreSQL and SQLite: select the client's existing rows for the
incoming keys, then insert or update in the ORM. Each batch runs in a SAVEPOINT; if a
concurrent transaction inserted the same natural key first (unique violation), the batch
is replayed once that row is visible, so the counts stay right under races.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from syncbucket.db.base import utcnow
from syncbucket.db.records_tables import RecordRow, model_for
from syncbucket.domain.records import Record

MAX_ATTEMPTS = 3
SELECT_CHUNK = 500
Key = tuple[Any, ...]


@dataclass(frozen=True)
class UpsertCounts:
    new: int = 0
    changed: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.new + other.new, self.changed + other.changed, self.unchanged + other.unchanged
        )

    @property
    def total(self) -> int:
        return self.new + self.changed + self.unchanged


@dataclass(frozen=True)
class RecordChange:
    """A record a sync found new, or changed since the previous sync (with the old body)."""

    change: str  # "new" | "changed"
    record: Record
    previous_content: dict[str, Any] | None


@dataclass(frozen=True)
class _Batch:
    model: type[RecordRow]
    firm_id: int
    client_id: int
    run_id: int | None
    records: Mapping[Key, Record]
    now: datetime


def content_hash(content: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no whitespace) of a record's content."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def upsert_records(
    session: Session,
    firm_id: int,
    client_id: int,
    run_id: int | None,
    records: Iterable[Record],
    *,
    now: datetime | None = None,
    changes: list[RecordChange] | None = None,
) -> UpsertCounts:
    """Insert new records, update changed ones, touch unchanged ones; return the counts.

    A record repeated in ``records`` (same natural key) counts once; the last one wins.
    ``changes``, when given, receives every new and changed record (for the
    ``client.changed`` event).
    """
    moment = now or utcnow()
    counts = UpsertCounts()
    for model, by_key in _group(records).items():
        batch = _Batch(model, firm_id, client_id, run_id, by_key, moment)
        batch_counts, batch_changes = _upsert_with_retry(session, batch)
        counts += batch_counts
        if changes is not None:
            changes.extend(batch_changes)
    return counts


def _group(records: Iterable[Record]) -> dict[type[RecordRow], dict[Key, Record]]:
    groups: dict[type[RecordRow], dict[Key, Record]] = {}
    for record in records:
        model = model_for(type(record))
        key = tuple(getattr(record, name) for name in model.key_columns)
        groups.setdefault(model, {})[key] = record
    return groups


def _upsert_with_retry(session: Session, batch: _Batch) -> tuple[UpsertCounts, list[RecordChange]]:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with session.begin_nested():
                return _apply(session, batch)
        except IntegrityError:
            if attempt == MAX_ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _apply(session: Session, batch: _Batch) -> tuple[UpsertCounts, list[RecordChange]]:
    existing = _load_existing(session, batch)
    new = changed = unchanged = 0
    changes: list[RecordChange] = []
    for key, record in batch.records.items():
        content = record.content()
        digest = content_hash(content)
        row = existing.get(key)
        if row is None:
            session.add(_new_row(batch, record, content, digest))
            changes.append(RecordChange("new", record, None))
            new += 1
        elif row.content_hash != digest:
            changes.append(RecordChange("changed", record, row.content))
            _set_content(row, batch, record, content, digest)
            changed += 1
        else:
            row.last_seen_at = batch.now
            row.last_run_id = batch.run_id
            unchanged += 1
    session.flush()
    return UpsertCounts(new, changed, unchanged), changes


def _load_existing(session: Session, batch: _Batch) -> dict[Key, RecordRow]:
    model = batch.model
    first = getattr(model, model.key_columns[0])
    wanted = sorted({key[0] for key in batch.records}, key=str)
    found: dict[Key, RecordRow] = {}
    for chunk in _chunks(wanted, SELECT_CHUNK):
        rows = session.scalars(
            sa.select(model).where(model.client_id == batch.client_id, first.in_(chunk))
        )
        for row in rows:
            found[tuple(getattr(row, name) for name in model.key_columns)] = row
    return found


def _chunks(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _columns(model: type[RecordRow], record: Record) -> dict[str, Any]:
    return {name: getattr(record, name) for name in (*model.key_columns, *model.query_columns)}


def _new_row(batch: _Batch, record: Record, content: dict[str, Any], digest: str) -> RecordRow:
    return batch.model(
        firm_id=batch.firm_id,
        client_id=batch.client_id,
        content=content,
        content_hash=digest,
        first_seen_at=batch.now,
        last_seen_at=batch.now,
        last_changed_at=batch.now,
        last_run_id=batch.run_id,
        changed_run_id=batch.run_id,
        previous_content=None,
        **_columns(batch.model, record),
    )


def _set_content(
    row: RecordRow, batch: _Batch, record: Record, content: dict[str, Any], digest: str
) -> None:
    for name, value in _columns(batch.model, record).items():
        setattr(row, name, value)
    row.previous_content = row.content
    row.content = content
    row.content_hash = digest
    row.last_seen_at = batch.now
    row.last_changed_at = batch.now
    row.last_run_id = batch.run_id
    row.changed_run_id = batch.run_id
