"""Identifiers of the Indian TDS world: validation and the portals' codings.

Each validator returns the normalised value (upper-cased, stripped) or raises
``InvalidIdentifier`` whose message names the field and the rule it broke.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

TAN_RE = re.compile(r"^[A-Z]{4}[0-9]{5}[A-Z]$")
PAN_RE = re.compile(r"^[A-Z]{5}[0-9]{4}[A-Z]$")
BSR_RE = re.compile(r"^[0-9]{7}$")
CHALLAN_SERIAL_RE = re.compile(r"^[0-9]{5}$")
FIN_YEAR_RE = re.compile(r"^(\d{4})-(\d{2})$")
# 4th PAN letter = holder type; E (LLP) is reported by one source and accepted.
PAN_HOLDER_TYPES = frozenset("PCHFATBLJGE")
QUARTER_TO_TRACES = {"Q1": 3, "Q2": 4, "Q3": 5, "Q4": 6}
TRACES_TO_QUARTER = {code: quarter for quarter, code in QUARTER_TO_TRACES.items()}
TRACES_DATE_FORMAT = "%d-%b-%Y"


class InvalidIdentifier(ValueError):
    """A value does not follow its identifier's rule; the message says which and why."""


def validate_tan(value: str) -> str:
    tan = value.strip().upper()
    if not TAN_RE.match(tan):
        raise InvalidIdentifier(
            f"TAN {value!r} is not valid: expected 4 letters, 5 digits, 1 letter (e.g. DELA12345B)"
        )
    return tan


def validate_pan(value: str) -> str:
    pan = value.strip().upper()
    if not PAN_RE.match(pan):
        raise InvalidIdentifier(
            f"PAN {value!r} is not valid: expected 5 letters, 4 digits, 1 letter (e.g. ABCPE1234F)"
        )
    if pan[3] not in PAN_HOLDER_TYPES:
        raise InvalidIdentifier(
            f"PAN {value!r} is not valid: its 4th letter {pan[3]!r} is not a holder type "
            f"({', '.join(sorted(PAN_HOLDER_TYPES))})"
        )
    return pan


def validate_bsr_code(value: str) -> str:
    bsr = value.strip()
    if not BSR_RE.match(bsr):
        raise InvalidIdentifier(f"BSR code {value!r} is not valid: expected 7 digits")
    return bsr


def validate_challan_serial(value: str) -> str:
    serial = value.strip()
    if not CHALLAN_SERIAL_RE.match(serial):
        raise InvalidIdentifier(f"challan serial no {value!r} is not valid: expected 5 digits")
    return serial


def fin_year_from_start(start_year: int | str) -> str:
    """2025 (TRACES' coding) -> "2025-26"."""
    text = str(start_year).strip()
    if not text.isdigit() or len(text) != 4:
        raise InvalidIdentifier(f"financial year start {start_year!r} is not a 4-digit year")
    year = int(text)
    return f"{year}-{(year + 1) % 100:02d}"


def fin_year_start(fin_year: str) -> int:
    """ "2025-26" -> 2025, checking the two halves are consecutive years."""
    match = FIN_YEAR_RE.match(fin_year.strip())
    if not match or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
        raise InvalidIdentifier(f"financial year {fin_year!r} is not valid: expected e.g. 2025-26")
    return int(match.group(1))


def quarter_from_traces(code: int | str) -> str:
    """TRACES codes quarters 3,4,5,6 for Q1..Q4."""
    try:
        return TRACES_TO_QUARTER[int(code)]
    except (KeyError, ValueError):
        raise InvalidIdentifier(
            f"TRACES quarter code {code!r} is not valid: expected 3, 4, 5 or 6"
        ) from None


def quarter_to_traces(quarter: str) -> int:
    try:
        return QUARTER_TO_TRACES[quarter.strip().upper()]
    except KeyError:
        raise InvalidIdentifier(f"quarter {quarter!r} is not valid: expected Q1..Q4") from None


def parse_traces_date(value: str | None) -> date | None:
    """TRACES writes dates as 15-Jul-2025; blank means none."""
    if value is None or not value.strip() or value.strip() == "-":
        return None
    try:
        return datetime.strptime(value.strip(), TRACES_DATE_FORMAT).date()
    except ValueError:
        raise InvalidIdentifier(f"date {value!r} is not valid: expected dd-Mon-yyyy") from None


def format_traces_date(value: date) -> str:
    return value.strftime(TRACES_DATE_FORMAT)


def parse_iso_date(value: str | None) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise InvalidIdentifier(f"date {value!r} is not valid: expected yyyy-mm-dd") from None


def date_from_epoch_ms(value: int | None) -> date | None:
    """The IT portal sends notice dates as epoch milliseconds (UTC)."""
    if value is None:
        return None

    return datetime.fromtimestamp(int(value) / 1000, tz=UTC).date()


def form_for_tax_year(form: str, fin_year: str, quarter: str) -> str:
    """Forms 24Q/26Q/27Q/27EQ become 138/140/144/143 from tax year 2026-27 on."""
    renumbered = {"24Q": "138", "26Q": "140", "27Q": "144", "27EQ": "143"}
    if fin_year_start(fin_year) >= 2026 and form in renumbered:
        return renumbered[form]
    del quarter  # Q4 of 2025-26 stays on the old forms: the year alone decides.
    return form
