"""IT portal payment history (fetch_challans) and e-Proceedings with their notices."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from syncbucket.portalsim.data import common as c
from syncbucket.portalsim.data.dataset import Dataset, Row, big, register

MODES = ("Net Banking", "Net Banking", "Debit Card", "RTGS/NEFT", "Over the Counter")
PROCEEDINGS = (
    ("Intimation u/s 200A", "200A", "Non-Assessment"),
    ("Notice u/s 201(1)", "201(1)", "Non-Assessment"),
    ("Show cause notice u/s 271H", "271H", "Penalty"),
    ("Notice u/s 133(6)", "133(6)", "Verification"),
    ("Order u/s 201(1)/201(1A)", "201(1A)", "Non-Assessment"),
)
TABS = ("FYA", "FYI")
TAB = "_tab"
NOTICES = "_notices"
TODAY = date(2026, 2, 28)


def _challan(rng: random.Random, tan: str) -> Row:
    fy = rng.choice(c.FIN_YEARS)
    deposited = c.between(rng, c.fy_start(fy), min(c.fy_end(fy), TODAY))
    bank, code = rng.choice(c.BANKS)
    section = rng.choice(list(c.SECTIONS))
    tax = c.money(rng, 1_000, 500_000)
    interest = c.money(rng, 0, 3_000) if rng.random() < 0.15 else c.money(rng, 0, 0)
    fee = c.money(rng, 0, 0) if rng.random() < 0.9 else c.money(rng, 200, 10_000)
    breakup = {
        "tax": tax,
        "surcharge": c.money(rng, 0, 0),
        "cess": c.money(rng, 0, 0),
        "interest": interest,
        "penalty": c.money(rng, 0, 0),
        "fee234E": fee,
    }
    total = sum(breakup.values(), c.money(rng, 0, 0))
    return {
        "tan": tan,
        "name": c.deductor_name(tan),
        "assessmentYear": c.fy_label(fy + 1),
        "financialYear": c.fy_label(fy),
        "majorHead": "0020" if "Limited" in c.deductor_name(tan) else "0021",
        "minorHead": "200" if rng.random() < 0.95 else "400",
        "natureOfPayment": section,
        "amount": c.it_amount(total),
        "cin": c.cin(rng, deposited, code),
        "modeOfPayment": rng.choice(MODES),
        "bankName": bank,
        "bankRefNo": f"{code}{c.digits(rng, 10)}",
        "dateOfDeposit": deposited.isoformat(),
        "bsrCode": c.bsr_code(rng),
        "challanNo": c.challan_serial(rng),
        "tenderDate": (deposited - timedelta(days=rng.choice((0, 0, 0, 1)))).isoformat(),
        "taxBreakup": {
            **{k: c.it_amount(v) for k, v in breakup.items()},
            "total": c.it_amount(total),
        },
    }


def _generate_challans(rng: random.Random, tan: str) -> list[Row]:
    count = rng.randint(51, 160) if big(rng, 0.15) else rng.randint(3, 45)
    return [_challan(rng, tan) for _ in range(count)]


def _add_challan(rng: random.Random, tan: str, existing: Sequence[Row]) -> Row:
    return _challan(rng, tan)


def _correct_challan(rng: random.Random, row: Row) -> Row:
    """A bank-side correction: the reference number is re-issued (tax amounts never change)."""
    return {**row, "bankRefNo": f"{row['bankRefNo'][:4]}{c.digits(rng, 11)}"}


def _notice(rng: random.Random, issued: date, section: str, number: int) -> Row:
    ay = issued.year + (1 if issued.month >= 4 else 0)
    return {
        "documentIdentificationNumber": f"ITBA/TDS/F/{section}/{ay - 1}-{ay % 100:02d}/"
        f"{rng.randint(10**9, 10**10 - 1)}({number})",
        "noticeSection": section,
        "description": f"Notice under section {section} of the Income-tax Act, 1961",
        "issuedOn": c.epoch_ms(issued),
        "servedOn": c.epoch_ms(issued + timedelta(days=rng.choice((0, 0, 1, 2)))),
        "responseDueDate": c.epoch_ms(issued + timedelta(days=rng.choice((15, 21, 30)))),
        "respStatus": "Response Submitted" if rng.random() < 0.5 else "Pending",
    }


def _proceeding(rng: random.Random, tan: str) -> Row:
    name, section, kind = rng.choice(PROCEEDINGS)
    fy = rng.choice(c.FIN_YEARS[:2])
    issued = c.between(rng, c.fy_end(fy), TODAY - timedelta(days=10))
    notices = [
        _notice(rng, issued + timedelta(days=40 * i), section, i + 1)
        for i in range(rng.randint(1, 3))
    ]
    is_open = rng.random() < 0.6
    answered = [n for n in notices if n["respStatus"] == "Response Submitted"]
    return {
        "proceedingReqId": str(rng.randint(10**11, 10**12 - 1)),
        "proceedingName": name,
        "pan": tan,
        "nameOfAssesse": c.deductor_name(tan),
        "assessmentYear": c.fy_label(fy + 1),
        "financialYr": c.fy_label(fy),
        "viewNoticeCount": len(notices),
        "proceedingType": kind,
        "lastResponseSubmittedOn": answered[-1]["servedOn"] if answered else None,
        "proceedingStatus": "O" if is_open else "C",
        TAB: "FYA" if is_open and rng.random() < 0.7 else "FYI",
        NOTICES: notices,
    }


def _generate_proceedings(rng: random.Random, tan: str) -> list[Row]:
    count = rng.randint(51, 65) if big(rng, 0.03) else rng.choice((0, 0, 1, 1, 2, 3, 5))
    return [_proceeding(rng, tan) for _ in range(count)]


def _add_proceeding(rng: random.Random, tan: str, existing: Sequence[Row]) -> Row:
    return {**_proceeding(rng, tan), "proceedingStatus": "O", TAB: "FYA"}


def _new_notice(rng: random.Random, row: Row) -> Row:
    notices = list(row[NOTICES])
    last = notices[-1]
    issued = datetime.fromtimestamp(last["issuedOn"] / 1000, tz=UTC).date() + timedelta(days=30)
    notices.append(_notice(rng, issued, last["noticeSection"], len(notices) + 1))
    return {**row, NOTICES: notices, "viewNoticeCount": len(notices), "proceedingStatus": "O"}


def listed_proceeding(row: Row) -> Row:
    return {name: value for name, value in row.items() if not name.startswith("_")}


PAYMENT_HISTORY = register(
    Dataset("fetch_challans", _generate_challans, _add_challan, _correct_challan)
)
EPROCEEDINGS = register(
    Dataset("eproceedings", _generate_proceedings, _add_proceeding, _new_notice)
)
