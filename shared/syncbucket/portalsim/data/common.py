"""Building blocks of realistic values: identifiers, dates, amounts, names."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
FIN_YEARS = (2023, 2024, 2025)  # start years: 2023-24 .. 2025-26
QUARTER_CODES = (3, 4, 5, 6)  # TRACES' Q1..Q4
FORMS = ("24Q", "26Q", "27Q", "27EQ")
BANKS = (
    ("State Bank of India", "SBIN"),
    ("HDFC Bank", "HDFC"),
    ("ICICI Bank", "ICIC"),
    ("Axis Bank", "UTIB"),
    ("Punjab National Bank", "PUNB"),
    ("Bank of Baroda", "BARB"),
    ("Canara Bank", "CNRB"),
    ("Indian Overseas Bank", "IOBA"),
)
SECTIONS = {
    "192": "Salary",
    "194A": "Interest other than interest on securities",
    "194C": "Payment to contractors",
    "194H": "Commission or brokerage",
    "194I": "Rent",
    "194J": "Fees for professional or technical services",
    "194Q": "Purchase of goods",
    "195": "Other sums payable to a non-resident",
}
_FIRST = ("Amit", "Priya", "Rahul", "Sneha", "Vikram", "Anita", "Suresh", "Kavita", "Rohan")
_LAST = ("Sharma", "Iyer", "Patel", "Reddy", "Gupta", "Nair", "Khan", "Das", "Mehta", "Joshi")
_STEMS = ("ar", "an", "ee", "ir", "ol", "um", "av", "es")
_TAILS = ("vind", "esh", "tex", "kar", "nath", "mani", "pur", "deep")
_KINDS = (" Private Limited", " Industries Limited", " & Co.", " LLP", " Traders", " Foundation")
_DIGITS = "0123456789"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CENT = Decimal("0.01")


def digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(_DIGITS) for _ in range(count))


def letters(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(_LETTERS) for _ in range(count))


def token_no(rng: random.Random) -> str:
    """A statement's 15-digit token number (PRN)."""
    return str(rng.randint(10**14, 10**15 - 1))


def bsr_code(rng: random.Random) -> str:
    """7 digits: 3 of the bank, 4 of the branch."""
    return f"{rng.randint(1, 699):03d}{rng.randint(1, 9999):04d}"


def challan_serial(rng: random.Random) -> str:
    return f"{rng.randint(1, 99999):05d}"


def cin(rng: random.Random, deposited: date, bank_code: str) -> str:
    """18 characters as on e-Pay Tax receipts: yymmdd + 8 digits + bank code."""
    return f"{deposited:%y%m%d}{digits(rng, 8)}{bank_code}"


def pan(rng: random.Random, holder: str | None = None) -> str:
    kind = holder or rng.choice("PPPPCCFH")
    return f"{letters(rng, 3)}{kind}{letters(rng, 1)}{digits(rng, 4)}{letters(rng, 1)}"


def deductor_name(tan: str) -> str:
    """The deductor's name: its initial is the TAN's 4th letter, as in real TANs."""
    rng = random.Random(f"{tan}:name")
    initial = tan[3] if len(tan) > 3 else "S"
    return f"{initial}{rng.choice(_STEMS)}{rng.choice(_TAILS)}{rng.choice(_KINDS)}"


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def fy_start(fy: int) -> date:
    return date(fy, 4, 1)


def fy_end(fy: int) -> date:
    return date(fy + 1, 3, 31)


def fy_label(fy: int) -> str:
    return f"{fy}-{(fy + 1) % 100:02d}"


def quarter_end(fy: int, code: int) -> date:
    return {3: date(fy, 6, 30), 4: date(fy, 9, 30), 5: date(fy, 12, 31), 6: date(fy + 1, 3, 31)}[
        code
    ]


def due_date(fy: int, code: int) -> date:
    return {
        3: date(fy, 7, 31),
        4: date(fy, 10, 31),
        5: date(fy + 1, 1, 31),
        6: date(fy + 1, 5, 31),
    }[code]


def between(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, max(0, (end - start).days)))


def money(rng: random.Random, low: int, high: int, paise: bool = False) -> Decimal:
    rupees = Decimal(rng.randint(low, high))
    if paise:
        rupees += Decimal(rng.randint(0, 99)) / 100
    return rupees.quantize(CENT)


def traces_amount(value: Decimal) -> str:
    return f"{value.quantize(CENT)}"


def it_amount(value: Decimal) -> float:
    return float(value.quantize(CENT))


def traces_date(value: date) -> str:
    """dd-Mon-yyyy in English whatever the process locale."""
    return f"{value.day:02d}-{MONTHS[value.month - 1]}-{value.year}"


def epoch_ms(value: date) -> int:
    """Noon IST (06:30 UTC), so the date reads the same in UTC and in IST."""
    return int(datetime(value.year, value.month, value.day, 6, 30, tzinfo=UTC).timestamp() * 1000)
