"""TRACES statement status (return_summary) and already-raised requests (notices_orders)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta

from syncbucket.portalsim.data import common as c
from syncbucket.portalsim.data.dataset import Dataset, Row, big, register

PROCESSED = ("Processed without defaults", "Processed with defaults")
PENDING = "Pending for processing"
REJECTED = "Rejected"
REJECTION_REASONS = (
    "Invalid TAN in statement",
    "Challan details do not match OLTAS",
    "Duplicate statement for the quarter",
)
REQUEST_TYPES = ("NSDL Conso File", "Justification Report", "Form 16", "Form 16A", "Form 27D")
LATEST_FILING = date(2026, 2, 28)  # the simulated "today": later quarters are not filed yet


def _statement(rng: random.Random, fy: int, code: int, form: str, kind: str) -> Row:
    filed = c.between(rng, c.quarter_end(fy, code) + timedelta(days=5), c.due_date(fy, code))
    if kind == "Correction":
        filed = filed + timedelta(days=rng.randint(30, 200))
    filed = min(filed, LATEST_FILING)
    roll = rng.random()
    status = PENDING if roll < 0.08 else REJECTED if roll < 0.12 else rng.choice(PROCESSED)
    processed = None if status == PENDING else filed + timedelta(days=rng.randint(2, 20))
    return {
        "finyear": str(fy),
        "quarter": code,
        "formtype": form,
        "tokenno": c.token_no(rng),
        "dtoffiling": c.traces_date(filed),
        "status": status,
        "dtofprcng": c.traces_date(processed) if processed else None,
        "stmnttype": kind,
        "remarks": "Defaults raised: see justification report"
        if "with defaults" in status
        else None,
        "reason": rng.choice(REJECTION_REASONS) if status == REJECTED else None,
    }


def _filed_quarters() -> list[tuple[int, int]]:
    return [
        (fy, code)
        for fy in c.FIN_YEARS
        for code in c.QUARTER_CODES
        if c.quarter_end(fy, code) + timedelta(days=5) <= LATEST_FILING
    ]


def _generate_statements(rng: random.Random, tan: str) -> list[Row]:
    large = big(rng, 0.12)
    forms = (
        list(c.FORMS) if large else ["26Q", *rng.sample(["24Q", "27Q", "27EQ"], rng.randint(0, 1))]
    )
    corrections = 0.9 if large else 0.1
    result: list[Row] = []
    for fy, code in _filed_quarters():
        for form in forms:
            result.append(_statement(rng, fy, code, form, "Regular"))
            while rng.random() < corrections * (
                0.5 if result[-1]["stmnttype"] == "Correction" else 1
            ):
                result.append(_statement(rng, fy, code, form, "Correction"))
    return result


def _add_statement(rng: random.Random, tan: str, existing: Sequence[Row]) -> Row:
    fy, code = rng.choice(_filed_quarters())
    form = rng.choice([row["formtype"] for row in existing] or ["26Q"])
    row = _statement(rng, fy, code, form, "Correction")
    return {**row, "status": PENDING, "dtofprcng": None, "remarks": None, "reason": None}


def _change_statement(rng: random.Random, row: Row) -> Row:
    if row["status"] == PENDING:
        filed = row["dtoffiling"]
        return {**row, "status": rng.choice(PROCESSED), "dtofprcng": filed}
    if row["remarks"] is None:
        return {**row, "remarks": "Statement reprocessed after challan correction"}
    return {**row, "remarks": None, "status": PROCESSED[0]}


def _request(rng: random.Random, tan: str, fresh: bool = False) -> Row:
    fy = rng.choice(c.FIN_YEARS)
    raised = c.between(rng, date(2024, 4, 1), LATEST_FILING)
    return {
        "reqNo": str(rng.randint(10**9, 10**10 - 1)),
        "reqDate": c.traces_date(raised),
        "finYr": str(fy),
        "qrtr": rng.choice(c.QUARTER_CODES),
        "frmType": rng.choice(c.FORMS[:3]),
        "dntype": rng.choice(REQUEST_TYPES),
        "status": "Submitted" if fresh or rng.random() < 0.15 else "Available",
    }


def _generate_requests(rng: random.Random, tan: str) -> list[Row]:
    count = rng.randint(55, 80) if big(rng, 0.04) else rng.randint(0, 12)
    return [_request(rng, tan) for _ in range(count)]


def _add_request(rng: random.Random, tan: str, existing: Sequence[Row]) -> Row:
    return _request(rng, tan, fresh=True)


def _change_request(rng: random.Random, row: Row) -> Row:
    return {**row, "status": "Available" if row["status"] == "Submitted" else "Disabled"}


RETURN_SUMMARY = register(
    Dataset("return_summary", _generate_statements, _add_statement, _change_statement)
)
RAISED_REQUESTS = register(
    Dataset("raised_requests", _generate_requests, _add_request, _change_request)
)
