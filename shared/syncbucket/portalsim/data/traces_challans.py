"""TRACES unconsumed challans and outstanding demand."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from syncbucket.portalsim.data import common as c
from syncbucket.portalsim.data.dataset import Dataset, Row, big, register

CHALLAN_STATUSES = ("Matched", "Matched", "Matched", "Unmatched", "Overbooked")
ZERO = Decimal("0.00")


def _consumption(rng: random.Random, fy: int, claim: Decimal) -> dict[str, object]:
    status = rng.choice(CHALLAN_STATUSES)
    excess = c.money(rng, 100, 5000) if status == "Overbooked" else ZERO
    return {
        "tokenNum": c.token_no(rng),
        "finYr": str(fy),
        "qtr": rng.choice(c.QUARTER_CODES),
        "formType": rng.choice(c.FORMS[:3]),
        "claimAmt": c.traces_amount(claim),
        "claimIntAmt": c.traces_amount(c.money(rng, 0, 900) if rng.random() < 0.2 else ZERO),
        "claimOthAmt": c.traces_amount(ZERO),
        "chlnStatus": status,
        "excessAmt": c.traces_amount(excess),
    }


def _challan(rng: random.Random) -> Row:
    fy = rng.choice(c.FIN_YEARS)
    deposited = c.between(rng, c.fy_start(fy), min(c.fy_end(fy), date(2026, 2, 28)))
    _bank, code = rng.choice(c.BANKS)
    amount = c.money(rng, 5_000, 900_000)
    consumption = []
    remaining = amount
    for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
        claim = (remaining * Decimal(rng.randint(10, 60)) / 100).quantize(c.CENT)
        remaining -= claim
        consumption.append(_consumption(rng, fy, claim))
    return {
        "recptNo": c.cin(rng, deposited, code),
        "chlnbsrcode": c.bsr_code(rng),
        "dateofdep": c.traces_date(deposited),
        "chlnsrno": c.challan_serial(rng),
        "hidchlnamt": c.traces_amount(amount),
        "hidunconschlnamt": c.traces_amount(remaining),
        "consumption": consumption,
    }


def _generate_challans(rng: random.Random, tan: str) -> list[Row]:
    count = rng.randint(51, 150) if big(rng, 0.12) else rng.randint(0, 20)
    return [_challan(rng) for _ in range(count)]


def _add_challan(rng: random.Random, tan: str, existing: Sequence[Row]) -> Row:
    return _challan(rng)


def _consume_more(rng: random.Random, row: Row) -> Row:
    remaining = Decimal(row["hidunconschlnamt"])
    claim = (remaining * Decimal(rng.randint(10, 50)) / 100).quantize(c.CENT)
    if claim <= ZERO:  # nothing left to consume: the deductor gets a refund instead
        return {**row, "hidunconschlnamt": c.traces_amount(remaining + Decimal(1))}
    fy = int(row["dateofdep"][-4:]) - 1
    entry = _consumption(rng, max(fy, c.FIN_YEARS[0]), claim)
    return {
        **row,
        "hidunconschlnamt": c.traces_amount(remaining - claim),
        "consumption": [*row["consumption"], entry],
    }


def _components(rng: random.Random) -> dict[str, str]:
    parts = {
        "shortPayment": c.money(rng, 0, 40_000) if rng.random() < 0.5 else ZERO,
        "shortDeduction": c.money(rng, 0, 60_000) if rng.random() < 0.5 else ZERO,
        "intLatePayment": c.money(rng, 0, 8_000),
        "intLateDeduction": c.money(rng, 0, 5_000) if rng.random() < 0.3 else ZERO,
        "lateFilingLevy234E": Decimal(200 * rng.randint(0, 60)).quantize(c.CENT),
        "int2202": c.money(rng, 0, 2_000) if rng.random() < 0.3 else ZERO,
    }
    total = sum(parts.values(), ZERO)
    return {
        **{k: c.traces_amount(v) for k, v in parts.items()},
        "netPayable": c.traces_amount(total),
    }


def _demand(rng: random.Random, fy: int | None) -> Row:
    if fy is None:
        ao = c.money(rng, 0, 50_000) if rng.random() < 0.3 else ZERO
        return {
            "finYr": "Prior Years",
            "aodmnd": c.traces_amount(ao),
            "cpcdmd": c.traces_amount(c.money(rng, 0, 90_000)),
            "components": None,
        }
    components = _components(rng)
    ao = c.money(rng, 0, 25_000) if rng.random() < 0.1 else ZERO
    return {
        "finYr": str(fy),
        "aodmnd": c.traces_amount(ao),
        "cpcdmd": components["netPayable"],
        "components": components,
    }


def _generate_demands(rng: random.Random, tan: str) -> list[Row]:
    if rng.random() < 0.45:
        return []  # no demand at all: the common, happy case
    result = [_demand(rng, fy) for fy in c.FIN_YEARS if rng.random() < 0.5]
    if rng.random() < 0.4:
        result.append(_demand(rng, None))
    return result


def _add_demand(rng: random.Random, tan: str, existing: Sequence[Row]) -> Row | None:
    present = {row["finYr"] for row in existing}
    missing = [fy for fy in c.FIN_YEARS if str(fy) not in present]
    if missing:
        return _demand(rng, rng.choice(missing))
    return None if "Prior Years" in present else _demand(rng, None)


def _accrue_interest(rng: random.Random, row: Row) -> Row:
    extra = c.money(rng, 50, 2_000)
    if row["components"] is None:
        return {**row, "cpcdmd": c.traces_amount(Decimal(row["cpcdmd"]) + extra)}
    components = dict(row["components"])
    components["int2202"] = c.traces_amount(Decimal(components["int2202"]) + extra)
    components["netPayable"] = c.traces_amount(Decimal(components["netPayable"]) + extra)
    return {**row, "cpcdmd": components["netPayable"], "components": components}


UNCONSUMED_CHALLANS = register(
    Dataset("unconsumed_challans", _generate_challans, _add_challan, _consume_more)
)
OUTSTANDING_DEMAND = register(
    Dataset("outstanding_demand", _generate_demands, _add_demand, _accrue_interest)
)
