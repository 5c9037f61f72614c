"""Records survive the trip through a JSON message exactly (Decimal, date, nested tuples)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from syncbucket.db.records_tables import RECORD_MODELS
from syncbucket.domain.records import ChallanConsumption, Record, UnconsumedChallan
from syncbucket.pipeline.errors import RecordCodecError, UnknownRecordType
from syncbucket.pipeline.record_codec import decode, decode_all, encode, encode_all
from tests.support.records import one_of_each


def _through_json(document: object) -> object:
    return json.loads(json.dumps(document))


@pytest.mark.parametrize("record", one_of_each(), ids=lambda r: type(r).__name__)
def test_round_trip_is_exact(record: Record) -> None:
    document = _through_json(encode(record))
    rebuilt = decode(document)  # type: ignore[arg-type]
    assert rebuilt == record
    assert type(rebuilt) is type(record)


def test_every_storable_record_type_is_covered() -> None:
    assert {type(r) for r in one_of_each()} == set(RECORD_MODELS)


def test_nested_tuples_and_decimals_come_back_as_such() -> None:
    consumption = ChallanConsumption(
        "T1",
        "2025-26",
        "Q1",
        "26Q",
        Decimal("100.10"),
        Decimal("0.00"),
        Decimal("0"),
        "Matched",
        Decimal("0.00"),
    )
    record = UnconsumedChallan(
        "0270001",
        date(2025, 7, 7),
        "00893",
        "R1",
        Decimal("1000.00"),
        Decimal("250.50"),
        (consumption, consumption),
    )
    rebuilt = decode(_through_json(encode(record)))  # type: ignore[arg-type]
    assert isinstance(rebuilt, UnconsumedChallan)
    assert isinstance(rebuilt.consumption, tuple)
    assert rebuilt.consumption[0].claimed_amount == Decimal("100.10")
    assert str(rebuilt.unconsumed_amount) == "250.50"  # no float detour
    assert rebuilt.deposit_date == date(2025, 7, 7)


def test_lists_round_trip() -> None:
    records = one_of_each()
    assert decode_all(_through_json(encode_all(records))) == records  # type: ignore[arg-type]


def test_unknown_type_names_the_known_ones() -> None:
    with pytest.raises(UnknownRecordType, match=r"unknown record type 'Invoice'.*PaidChallan"):
        decode({"type": "Invoice", "content": {}})


def test_invalid_content_says_which_field() -> None:
    document = encode(one_of_each()[1])
    document["content"]["amount"] = "not money"
    with pytest.raises(RecordCodecError, match=r"PaidChallan: invalid content.*amount"):
        decode(document)


def test_missing_content_is_refused() -> None:
    with pytest.raises(RecordCodecError, match="'content' must be an object"):
        decode({"type": "PaidChallan"})
