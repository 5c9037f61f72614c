from __future__ import annotations

from datetime import date

import pytest

from syncbucket.domain.identifiers import (
    InvalidIdentifier,
    date_from_epoch_ms,
    fin_year_from_start,
    fin_year_start,
    form_for_tax_year,
    format_traces_date,
    parse_iso_date,
    parse_traces_date,
    quarter_from_traces,
    quarter_to_traces,
    validate_bsr_code,
    validate_challan_serial,
    validate_pan,
    validate_tan,
)


@pytest.mark.parametrize("raw", ["DELA12345B", " dela12345b ", "MUMX00001Z"])
def test_tan_accepts_and_normalises(raw: str) -> None:
    assert validate_tan(raw) == raw.strip().upper()


@pytest.mark.parametrize(
    "raw", ["", "DEL12345B", "DELA1234B", "DELA123456", "1ELA12345B", "DELA12345BB"]
)
def test_tan_rejects_with_the_rule(raw: str) -> None:
    with pytest.raises(InvalidIdentifier, match=r"TAN .* expected 4 letters, 5 digits, 1 letter"):
        validate_tan(raw)


@pytest.mark.parametrize("holder", list("PCHFATBLJGE"))
def test_pan_accepts_every_holder_type(holder: str) -> None:
    assert validate_pan(f"abc{holder.lower()}e1234f") == f"ABC{holder}E1234F"


def test_pan_rejects_unknown_holder_type_naming_the_letter() -> None:
    with pytest.raises(InvalidIdentifier, match="4th letter 'X' is not a holder type"):
        validate_pan("ABCXE1234F")


@pytest.mark.parametrize("raw", ["ABCP1234F", "ABCPE12345", "ABCPE1234", "12CPE1234F"])
def test_pan_rejects_bad_shape(raw: str) -> None:
    with pytest.raises(InvalidIdentifier, match="expected 5 letters, 4 digits, 1 letter"):
        validate_pan(raw)


def test_bsr_code_is_seven_digits() -> None:
    assert validate_bsr_code(" 0270001 ") == "0270001"
    for bad in ("027000", "02700011", "027000A"):
        with pytest.raises(InvalidIdentifier, match="BSR code"):
            validate_bsr_code(bad)


def test_challan_serial_is_five_digits() -> None:
    assert validate_challan_serial("00893") == "00893"
    for bad in ("893", "008931", "0089A"):
        with pytest.raises(InvalidIdentifier, match="challan serial"):
            validate_challan_serial(bad)


def test_financial_year_conversions_round_trip() -> None:
    assert fin_year_from_start(2025) == "2025-26"
    assert fin_year_from_start("1999") == "1999-00"
    assert fin_year_start("2025-26") == 2025
    assert fin_year_start("1999-00") == 1999
    for year in (2010, 2024, 2099):
        assert fin_year_start(fin_year_from_start(year)) == year


@pytest.mark.parametrize("bad", ["2025-27", "2025", "25-26", "2025/26"])
def test_financial_year_rejects_non_consecutive_or_malformed(bad: str) -> None:
    with pytest.raises(InvalidIdentifier):
        fin_year_start(bad)
    with pytest.raises(InvalidIdentifier):
        fin_year_from_start("20x5")


def test_traces_quarter_codes_are_3_to_6() -> None:
    assert [quarter_from_traces(code) for code in (3, 4, 5, 6)] == ["Q1", "Q2", "Q3", "Q4"]
    assert quarter_from_traces("5") == "Q3"
    assert [quarter_to_traces(q) for q in ("Q1", "q2", "Q3", "Q4")] == [3, 4, 5, 6]
    for bad in (1, 2, 7, "x"):
        with pytest.raises(InvalidIdentifier, match="expected 3, 4, 5 or 6"):
            quarter_from_traces(bad)
    with pytest.raises(InvalidIdentifier):
        quarter_to_traces("Q5")


def test_traces_dates() -> None:
    assert parse_traces_date("15-Jul-2025") == date(2025, 7, 15)
    assert parse_traces_date(" ") is None
    assert parse_traces_date("-") is None
    assert parse_traces_date(None) is None
    assert format_traces_date(date(2025, 1, 5)) == "05-Jan-2025"
    with pytest.raises(InvalidIdentifier, match="dd-Mon-yyyy"):
        parse_traces_date("2025-07-15")


def test_iso_and_epoch_dates() -> None:
    assert parse_iso_date("2025-07-15T10:00:00") == date(2025, 7, 15)
    assert parse_iso_date("") is None
    with pytest.raises(InvalidIdentifier, match="yyyy-mm-dd"):
        parse_iso_date("15-07-2025")
    assert date_from_epoch_ms(1752537600000) == date(2025, 7, 15)
    assert date_from_epoch_ms(None) is None


def test_forms_renumbered_from_tax_year_2026_27() -> None:
    olds_news = {"24Q": "138", "26Q": "140", "27Q": "144", "27EQ": "143"}
    for old, new in olds_news.items():
        assert form_for_tax_year(old, "2026-27", "Q1") == new
        assert form_for_tax_year(old, "2025-26", "Q4") == old  # Q4 of 2025-26 keeps old forms
    assert form_for_tax_year("138", "2027-28", "Q2") == "138"
