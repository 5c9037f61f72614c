"""TRACES lower deduction certificates (s.197): the list a firm keeps, and their verification.

Rows hold the full verification result; ``ldcList`` shows ``certNo, pan, finYr`` only.
A few listed certificates are unknown to TRACES (``verifiable`` false): verification
answers ``CERT_NOT_FOUND`` for them, as it does for a mistyped number.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from syncbucket.portalsim.data import common as c
from syncbucket.portalsim.data.dataset import Dataset, Row, big, register

LIST_FIELDS = ("certNo", "pan", "finYr")
HIDDEN = "_verifiable"


def cert_no(rng: random.Random) -> str:
    """10 characters shaped like ``1111AA111A``."""
    return f"{c.digits(rng, 4)}{c.letters(rng, 2)}{c.digits(rng, 3)}{c.letters(rng, 1)}"


def _certificate(rng: random.Random, fy: int | None = None) -> Row:
    fy = rng.choice(c.FIN_YEARS) if fy is None else fy
    issued = c.between(
        rng, c.fy_start(fy) - timedelta(days=20), c.fy_start(fy) + timedelta(days=200)
    )
    valid_from = max(issued, c.fy_start(fy))
    limit = c.money(rng, 1, 50) * 100_000
    roll = rng.random()
    consumed = limit if roll < 0.1 else (limit * Decimal(rng.randint(0, 95)) / 100).quantize(c.CENT)
    section = rng.choice(["194C", "194J", "194I", "194H", "194A", "195"])
    cancelled = c.between(rng, valid_from, c.fy_end(fy)) if 0.1 <= roll < 0.18 else None
    return {
        "certNo": cert_no(rng),
        "finYr": str(fy),
        "pan": c.pan(rng),
        "name": c.person_name(rng),
        "validFrom": c.traces_date(valid_from),
        "cancelDate": c.traces_date(cancelled) if cancelled else None,
        "validTo": c.traces_date(c.fy_end(fy)),
        "section": section,
        "natureOfPayment": c.SECTIONS[section],
        "tdsRate": c.traces_amount(Decimal(rng.choice(["0.10", "0.50", "1.00", "2.00", "5.00"]))),
        "tdsAmtLimit": c.traces_amount(limit),
        "tdsAmtConsumed": c.traces_amount(consumed),
        "issueDate": c.traces_date(issued),
        HIDDEN: rng.random() >= 0.05,
    }


def _generate(rng: random.Random, tan: str) -> list[Row]:
    count = rng.randint(51, 70) if big(rng, 0.05) else rng.randint(0, 8)
    return [_certificate(rng) for _ in range(count)]


def _add(rng: random.Random, tan: str, existing: Sequence[Row]) -> Row:
    return {**_certificate(rng, c.FIN_YEARS[-1]), HIDDEN: True}


def _change(rng: random.Random, row: Row) -> Row:
    limit, consumed = Decimal(row["tdsAmtLimit"]), Decimal(row["tdsAmtConsumed"])
    if consumed < limit:
        more = min(limit - consumed, c.money(rng, 1_000, 200_000))
        return {**row, "tdsAmtConsumed": c.traces_amount(consumed + more)}
    return {**row, "cancelDate": row["cancelDate"] or c.traces_date(date(2026, 1, 15))}


def listed(row: Row) -> Row:
    return {name: row[name] for name in LIST_FIELDS}


def verified(row: Row) -> Row | None:
    """The verification result TRACES shows, or None for a certificate it does not know."""
    if not row[HIDDEN]:
        return None
    return {name: value for name, value in row.items() if name != HIDDEN}


LDC = register(Dataset("ldc", _generate, _add, _change))
