"""Reading a portal's JSON row into typed values, failing with a message a person can use.

A malformed field (missing key, bad date, bad amount) becomes
``PortalPermanent(UNEXPECTED_RESPONSE)`` naming the field, the module and the portal, never
a ``KeyError``. The bad value itself is not quoted: messages never carry response bodies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from syncbucket.domain.identifiers import (
    FIN_YEAR_RE,
    InvalidIdentifier,
    fin_year_from_start,
    fin_year_start,
    parse_iso_date,
    parse_traces_date,
    quarter_from_traces,
)
from syncbucket.portals.boundary import portal_name
from syncbucket.portals.errors import ErrorCode, PortalPermanent

_CENT = Decimal("0.01")
_QUARTER_RE = re.compile(r"^Q[1-4]$")
# Notices are issued in India: an epoch instant is read as an IST calendar date, which is
# also right for instants the portal stamps at UTC midnight.
IST = timezone(timedelta(hours=5, minutes=30), "IST")


def unexpected(portal: str, module: str, detail: str) -> PortalPermanent:
    return PortalPermanent(
        f"{portal_name(portal, capital=True)} answered something unexpected for {module}: "
        f"{detail}; the portal may have changed its format",
        portal=portal,
        code=ErrorCode.UNEXPECTED_RESPONSE,
    )


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {str: "text", bool: "true/false", list: "a list", dict: "an object"}.get(
        type(value), "a number"
    )


class Fields:
    """Typed access to one JSON object of a portal answer, for one module."""

    def __init__(self, data: Any, *, portal: str, module: str, where: str = "a row") -> None:
        self.portal = portal
        self.module = module
        self.where = where
        if not isinstance(data, Mapping):
            raise self._bad_shape(f"{where} is {_kind(data)}, expected an object")
        self._data: Mapping[str, Any] = data

    def _bad_shape(self, detail: str) -> PortalPermanent:
        return unexpected(self.portal, self.module, detail)

    def _bad(self, key: str, expected: str, value: Any = None) -> PortalPermanent:
        got = "it is missing" if key not in self._data else f"got {_kind(value)}"
        return self._bad_shape(f"field '{key}' of {self.where} should be {expected} ({got})")

    def raw(self, key: str) -> Any:
        return self._data.get(key)

    def has(self, key: str) -> bool:
        return self._data.get(key) not in (None, "")

    def text(self, key: str) -> str:
        value = self._data.get(key)
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise self._bad(key, "text", value)
        text = str(value).strip()
        if not text:
            raise self._bad(key, "non-empty text", value)
        return text

    def opt_text(self, key: str) -> str | None:
        return self.text(key) if self.has(key) else None

    def integer(self, key: str) -> int:
        value = self._data.get(key)
        if isinstance(value, bool):
            raise self._bad(key, "a whole number", value)
        try:
            return int(str(value).strip())
        except ValueError:
            raise self._bad(key, "a whole number", value) from None

    def amount(self, key: str) -> Decimal:
        """A rupee amount: TRACES sends "1234.50" (maybe "1,234.50"), the IT portal a number."""
        return self.decimal(key).quantize(_CENT)

    def opt_amount(self, key: str) -> Decimal:
        """An amount the portal may leave blank (null or ""), meaning zero; not a missing key."""
        if key not in self._data:
            raise self._bad(key, "an amount")
        return self.amount(key) if self.has(key) else Decimal("0.00")

    def decimal(self, key: str) -> Decimal:
        value = self._data.get(key)
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise self._bad(key, "an amount", value)
        try:
            number = Decimal(str(value).replace(",", "").strip())
        except InvalidOperation:
            raise self._bad(key, "an amount", value) from None
        if not number.is_finite():
            raise self._bad(key, "an amount", value)
        return number

    def traces_date(self, key: str) -> date:
        parsed = self.opt_traces_date(key)
        if parsed is None:
            raise self._bad(key, "a date like 15-Jul-2025", self._data.get(key))
        return parsed

    def opt_traces_date(self, key: str) -> date | None:
        return self._date(key, parse_traces_date, "a date like 15-Jul-2025")

    def iso_date(self, key: str) -> date:
        parsed = self.opt_iso_date(key)
        if parsed is None:
            raise self._bad(key, "a date like 2025-07-15", self._data.get(key))
        return parsed

    def opt_iso_date(self, key: str) -> date | None:
        return self._date(key, parse_iso_date, "a date like 2025-07-15")

    def _date(self, key: str, parse: Any, expected: str) -> date | None:
        value = self._data.get(key)
        if value is not None and not isinstance(value, str):
            raise self._bad(key, expected, value)
        try:
            parsed: date | None = parse(value)
        except InvalidIdentifier:
            raise self._bad(key, expected, value) from None
        return parsed

    def opt_epoch_date(self, key: str) -> date | None:
        """IT portal notice dates: epoch milliseconds, read as an Indian calendar date."""
        value = self._data.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
            raise self._bad(key, "a time in epoch milliseconds", value)
        try:
            return datetime.fromtimestamp(int(str(value)) / 1000, tz=IST).date()
        except (ValueError, OverflowError, OSError):
            raise self._bad(key, "a time in epoch milliseconds", value) from None

    def fin_year(self, key: str) -> str:
        """TRACES sends the start year ("2025" or 2025); the IT portal may send "2025-26"."""
        value = self.text(key)
        try:
            if FIN_YEAR_RE.match(value):
                fin_year_start(value)  # validates the two halves are consecutive
                return value
            return fin_year_from_start(value)
        except InvalidIdentifier:
            raise self._bad(key, "a financial year like 2025 or 2025-26", value) from None

    def opt_fin_year(self, key: str) -> str | None:
        return self.fin_year(key) if self.has(key) else None

    def quarter(self, key: str) -> str:
        """TRACES codes quarters 3,4,5,6 for Q1..Q4; "Q1".."Q4" is accepted as is."""
        value = self.text(key).upper()
        if _QUARTER_RE.match(value):
            return value
        try:
            return quarter_from_traces(value)
        except InvalidIdentifier:
            raise self._bad(key, "a quarter code 3, 4, 5 or 6", value) from None

    def obj(self, key: str) -> Fields:
        where = f"{key} of {self.where}"
        return Fields(self._data.get(key), portal=self.portal, module=self.module, where=where)

    def opt_obj(self, key: str) -> Fields | None:
        return self.obj(key) if self._data.get(key) is not None else None

    def objects(self, key: str, *, required: bool = False) -> list[Fields]:
        """A list of objects; unless ``required``, a missing or null list means none."""
        value = self._data.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, list):
            raise self._bad(key, "a list", value)
        return [
            Fields(
                item, portal=self.portal, module=self.module, where=f"{key}[{i}] of {self.where}"
            )
            for i, item in enumerate(value)
        ]
