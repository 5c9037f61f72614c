"""A client's synced records per module, what the latest sync changed, and firm exports.

Every read filters by the firm (and the client): records of another firm's client are
never returned, whatever id is asked for. Exports stream in their own transaction with
``yield_per``, so 160,000 records leave as CSV lines without ever being all in memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.db.clients import Client
from syncbucket.db.records_tables import MODULE_MODELS, OutstandingDemandRecord, RecordRow
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.domain.portals import ModuleKey
from syncbucket.pipeline.report_csv import safe_cell
from syncbucket.portals.traces.outstanding_demand import PRIOR_YEARS
from syncbucket.reports.changes import FieldChange, field_changes
from syncbucket.reports.columns import COLUMNS, Column

EXPORT_BATCH = 1000

# Newest first where the records have a date people sort by (undated ones last).
_ORDER: dict[ModuleKey, tuple[str, ...]] = {
    ModuleKey.RETURN_SUMMARY: ("fin_year", "quarter", "form_type"),
    ModuleKey.FETCH_CHALLANS: ("deposit_date", "challan_serial"),
    ModuleKey.UNCONSUMED_CHALLANS: ("deposit_date", "challan_serial"),
    ModuleKey.NOTICES_ORDERS: ("issued_on", "reference"),
    ModuleKey.OUTSTANDING_DEMAND: ("fin_year",),
    ModuleKey.VERIFY_LDC: ("fin_year", "certificate_no"),
}


@dataclass(frozen=True)
class RecordView:
    id: int
    content: dict[str, Any]
    previous_content: dict[str, Any] | None
    first_seen_at: datetime
    last_changed_at: datetime
    changed_run_id: int | None

    def cells(self, columns: Sequence[Column]) -> list[Any]:
        return [column.value(self.content) for column in columns]


@dataclass(frozen=True)
class ChangedRecord:
    record: RecordView
    fields: list[FieldChange]


@dataclass(frozen=True)
class Changes:
    """What runs ``run_ids`` (a module's latest successful sync) added and changed."""

    new: list[RecordView]
    changed: list[ChangedRecord]

    @property
    def empty(self) -> bool:
        return not self.new and not self.changed


def _view(row: RecordRow) -> RecordView:
    return RecordView(
        id=row.id,
        content=row.content,
        previous_content=row.previous_content,
        first_seen_at=row.first_seen_at,
        last_changed_at=row.last_changed_at,
        changed_run_id=row.changed_run_id,
    )


def _ordered(model: type[RecordRow], module: ModuleKey) -> list[Any]:
    first: list[Any] = []
    if module == ModuleKey.OUTSTANDING_DEMAND:
        # The "Prior Years" row (every older year) is the oldest, though "prior" > "2025-26".
        first.append(sa.case((OutstandingDemandRecord.fin_year == PRIOR_YEARS, 1), else_=0))
    # NULLS LAST spelled out: PostgreSQL would put undated records first, SQLite last.
    newest = [getattr(model, name).desc().nulls_last() for name in _ORDER[module]]
    return [*first, *newest, model.id]


def client_records(
    session: Session, firm_id: int, client_id: int, module: ModuleKey, *, limit: int = 200
) -> tuple[list[RecordView], int]:
    """Up to ``limit`` of the client's records of ``module`` and how many there are."""
    model = MODULE_MODELS[module]
    scope = sa.and_(model.firm_id == firm_id, model.client_id == client_id)
    total = int(session.scalar(sa.select(sa.func.count()).select_from(model).where(scope)) or 0)
    rows = session.scalars(
        sa.select(model).where(scope).order_by(*_ordered(model, module)).limit(limit)
    )
    return [_view(row) for row in rows], total


def changes_in(
    session: Session, firm_id: int, client_id: int, module: ModuleKey, run_ids: Sequence[int]
) -> Changes:
    """Records of ``module`` the runs inserted (new) or changed (with each field's change)."""
    if not run_ids:
        return Changes([], [])
    model = MODULE_MODELS[module]
    rows = session.scalars(
        sa.select(model)
        .where(
            model.firm_id == firm_id,
            model.client_id == client_id,
            model.changed_run_id.in_(list(run_ids)),
        )
        .order_by(*_ordered(model, module))
    )
    new: list[RecordView] = []
    changed: list[ChangedRecord] = []
    for row in rows:
        view = _view(row)
        if view.previous_content is None:
            new.append(view)
        else:
            changed.append(ChangedRecord(view, field_changes(view.previous_content, view.content)))
    return Changes(new, changed)


def export_header(module: ModuleKey) -> list[str]:
    return ["Client", "TAN", *(c.label for c in COLUMNS[module]), "First seen", "Last changed"]


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return safe_cell(str(value))


def _value_cell(column: Column, value: Any) -> str:
    """An amount stays a number a spreadsheet adds up (``-1500.00`` is not a formula);
    anything else is guarded against formula injection."""
    if column.kind == "amount" and value is not None:
        try:
            return str(Decimal(str(value)))
        except InvalidOperation:
            pass
    return _csv_cell(value)


def export_lines(
    sessions: SessionFactory,
    firm_id: int,
    module: ModuleKey,
    *,
    client_ids: Sequence[int] | None = None,
    condition: sa.ColumnElement[bool] | None = None,
) -> Iterator[str]:
    """The firm's records of ``module`` as CSV lines (header first), client by client.

    ``client_ids`` narrows to those clients, ``condition`` (on ``clients``) to the ones
    a Client Master filter matches; neither = every client of the firm.
    """
    model = MODULE_MODELS[module]
    columns = COLUMNS[module]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: Sequence[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    yield line(export_header(module))
    query = (
        sa.select(Client.name, Client.tan, model)
        .join(Client, Client.id == model.client_id)
        .where(model.firm_id == firm_id, Client.firm_id == firm_id)
        .order_by(Client.name, Client.tan, *_ordered(model, module))
    )
    if condition is not None:
        query = query.where(condition)
    if client_ids is not None:
        query = query.where(Client.id.in_(sorted(set(client_ids)) or [0]))
    with unit_of_work(sessions) as session:
        for name, tan, row in session.execute(query.execution_options(yield_per=EXPORT_BATCH)):
            values = [_value_cell(c, c.value(row.content)) for c in columns]
            cells = [_csv_cell(cell) for cell in (name, tan)]
            cells += [*values, _csv_cell(row.first_seen_at), _csv_cell(row.last_changed_at)]
            yield line(cells)
