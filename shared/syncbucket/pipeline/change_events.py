"""``syncbucket.client.changed``: what a sync found new or changed for one client.

One event per item (a client's module part) that brought at least one new or changed
record, written in the transaction that applies the item's outcome. ``data`` is a small
typed summary an upstream system can act on without polling -- a notice with its DIN,
section and response due date, a demand with its amount, a certificate whose verdict
became ``exhausted`` -- never a whole record set and never a credential: at most
:data:`MAX_HIGHLIGHTS` records are described, each by a handful of fields, and the
totals say how many there were.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from syncbucket.db.records_repo import RecordChange
from syncbucket.domain.records import (
    LowerDeductionCertificate,
    NoticeOrder,
    OutstandingDemand,
    PaidChallan,
    Record,
    StatementStatus,
    UnconsumedChallan,
)
from syncbucket.reports.changes import field_changes

MAX_HIGHLIGHTS = 20
MAX_CHANGED_FIELDS = 10


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _statement(record: StatementStatus) -> dict[str, Any]:
    return {
        "token_no": record.token_no,
        "fin_year": record.fin_year,
        "quarter": record.quarter,
        "form_type": record.form_type,
        "statement_type": record.statement_type,
        "status": record.status,
        "rejection_reason": record.rejection_reason,
    }


def _paid_challan(record: PaidChallan) -> dict[str, Any]:
    return {
        "cin": record.cin,
        "bsr_code": record.bsr_code,
        "deposit_date": record.deposit_date.isoformat(),
        "challan_serial": record.challan_serial,
        "assessment_year": record.assessment_year,
        "amount": str(record.amount),
    }


def _unconsumed(record: UnconsumedChallan) -> dict[str, Any]:
    return {
        "bsr_code": record.bsr_code,
        "deposit_date": record.deposit_date.isoformat(),
        "challan_serial": record.challan_serial,
        "challan_amount": str(record.challan_amount),
        "unconsumed_amount": str(record.unconsumed_amount),
    }


def _notice(record: NoticeOrder) -> dict[str, Any]:
    return {
        "source": record.source,
        "reference": record.reference,  # the DIN of an e-Proceeding notice
        "title": record.title,
        "section": record.section,
        "status": record.status,
        "issued_on": _text(record.issued_on),
        "response_due_on": _text(record.response_due_on),
    }


def _demand(record: OutstandingDemand) -> dict[str, Any]:
    net = record.components.net_payable if record.components is not None else None
    return {
        "fin_year": record.fin_year,
        "ao_demand": str(record.ao_demand),
        "cpc_demand": str(record.cpc_demand),
        "net_payable": _text(net),
    }


def _ldc(record: LowerDeductionCertificate) -> dict[str, Any]:
    return {
        "certificate_no": record.certificate_no,
        "fin_year": record.fin_year,
        "section": record.section,
        "verdict": record.verdict,
        "amount_limit": str(record.amount_limit),
        "amount_consumed": str(record.amount_consumed),
        "valid_to": _text(record.valid_to),
    }


_SUMMARIES: dict[type[Record], tuple[str, Callable[[Any], dict[str, Any]]]] = {
    StatementStatus: ("statement", _statement),
    PaidChallan: ("paid_challan", _paid_challan),
    UnconsumedChallan: ("unconsumed_challan", _unconsumed),
    NoticeOrder: ("notice", _notice),
    OutstandingDemand: ("demand", _demand),
    LowerDeductionCertificate: ("ldc", _ldc),
}
RECORD_KINDS = tuple(kind for kind, _ in _SUMMARIES.values())


def highlight(change: RecordChange) -> dict[str, Any]:
    """One record as the event describes it: its kind, what changed, its key fields."""
    kind, summary = _SUMMARIES[type(change.record)]
    described: dict[str, Any] = {
        "change": change.change,
        "kind": kind,
        "key": "/".join(change.record.natural_key),
        "summary": summary(change.record),
    }
    if change.change == "changed":
        fields = field_changes(change.previous_content, change.record.content())
        described["changed_fields"] = [field.path for field in fields][:MAX_CHANGED_FIELDS]
    return described


def client_changed_payload(
    *,
    run_id: int,
    item_id: int,
    firm_id: int,
    client_id: int,
    tan: str,
    module: str,
    portal: str,
    changes: Sequence[RecordChange],
) -> dict[str, Any]:
    """The event's ``data``; new records first, then changed ones, in the portal's order."""
    ordered = [c for c in changes if c.change == "new"] + [
        c for c in changes if c.change == "changed"
    ]
    return {
        "run_id": run_id,
        "item_id": item_id,
        "firm_id": firm_id,
        "client_id": client_id,
        "tan": tan,
        "module": module,
        "portal": portal,
        "records_new": sum(1 for c in changes if c.change == "new"),
        "records_changed": sum(1 for c in changes if c.change == "changed"),
        "highlights": [highlight(change) for change in ordered[:MAX_HIGHLIGHTS]],
        "truncated": len(ordered) > MAX_HIGHLIGHTS,
    }
