"""field_changes: the one field that changed, however deep, with its label, old and new."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from syncbucket.domain.records import ChallanConsumption, UnconsumedChallan
from syncbucket.reports.changes import FieldChange, field_changes, flatten
from tests.support.records import challan, changed


def consumption(status: str = "Matched", amount: str = "750.00") -> ChallanConsumption:
    return ChallanConsumption(
        "123456789012345", "2025-26", "Q1", "26Q", Decimal(amount), Decimal("0"), Decimal("0"),
        status, Decimal("0"),
    )  # fmt: skip


def unconsumed(*used: ChallanConsumption) -> UnconsumedChallan:
    return UnconsumedChallan(
        "0270001", date(2025, 7, 7), "00893", "R1", Decimal("1000.00"), Decimal("250.00"), used
    )


def test_flatten() -> None:
    assert flatten({"a": 1, "b": {"c": 2, "d": {"e": None}}, "f": [{"g": 3}, 4], "h": []}) == {
        "a": 1,
        "b.c": 2,
        "b.d.e": None,
        "f[0].g": 3,
        "f[1]": 4,
        "h": [],
    }


def test_no_previous_content_means_new_not_changed() -> None:
    assert field_changes(None, challan("00001").content()) == []


def test_identical_contents_have_no_changes() -> None:
    content = unconsumed(consumption()).content()
    assert field_changes(content, unconsumed(consumption()).content()) == []


def test_top_level_change() -> None:
    old = challan("00001")
    assert field_changes(old.content(), changed(old).content()) == [
        FieldChange("bank_reference_no", "bank reference no", "REF00001", "REF00001-2")
    ]


def test_nested_dict_change_names_the_one_field() -> None:
    old = challan("00001")
    new = replace(old, breakup=replace(old.breakup, interest=Decimal("12.00")))
    assert field_changes(old.content(), new.content()) == [
        FieldChange("breakup.interest", "Interest", "0.00", "12.00")
    ]


def test_several_changes_keep_the_records_field_order() -> None:
    old = challan("00001")
    new = replace(
        old,
        amount=Decimal("2000.00"),
        breakup=replace(old.breakup, tax=Decimal("2000.00"), total=Decimal("2000.00")),
    )
    assert [(c.path, c.label) for c in field_changes(old.content(), new.content())] == [
        ("amount", "Amount"),
        ("breakup.tax", "Tax"),
        ("breakup.total", "breakup › total"),
    ]


def test_change_inside_a_list_element() -> None:
    old = unconsumed(consumption(), consumption("Unmatched", "100.00"))
    new = unconsumed(consumption(), consumption("Matched", "100.00"))
    assert field_changes(old.content(), new.content()) == [
        FieldChange("consumption[1].status", "consumption[1] › status", "Unmatched", "Matched")
    ]


def test_list_growing_from_empty() -> None:
    changes = field_changes(unconsumed().content(), unconsumed(consumption()).content())
    # the new element's fields, and no "consumption: [] -> nothing" line beside them
    assert [c.path for c in changes] == [
        f"consumption[0].{name}"
        for name in (
            "token_no",
            "fin_year",
            "quarter",
            "form_type",
            "claimed_amount",
            "claimed_interest",
            "claimed_other",
            "status",
            "excess_amount",
        )
    ]
    assert all(c.old is None for c in changes)
    assert changes[7] == FieldChange(
        "consumption[0].status", "consumption[0] › status", None, "Matched"
    )


def test_list_shrinking_to_empty() -> None:
    changes = field_changes(unconsumed(consumption()).content(), unconsumed().content())
    assert len(changes) == 9
    assert all(c.path.startswith("consumption[0].") and c.new is None for c in changes)


def test_list_losing_its_last_element() -> None:
    old = unconsumed(consumption(), consumption("Overbooked"))
    changes = field_changes(old.content(), unconsumed(consumption()).content())
    assert {c.path.split(".")[0] for c in changes} == {"consumption[1]"}
    assert FieldChange("consumption[1].status", "consumption[1] › status", "Overbooked", None) in (
        changes
    )


def test_value_to_none_and_back() -> None:
    assert field_changes({"remarks": "x"}, {"remarks": None}) == [
        FieldChange("remarks", "Remarks", "x", None)
    ]
    assert field_changes({"remarks": None}, {"remarks": "y"}) == [
        FieldChange("remarks", "Remarks", None, "y")
    ]


def test_a_field_that_appears_or_disappears() -> None:
    assert field_changes({"a": "1"}, {"a": "1", "b": "2"}) == [FieldChange("b", "b", None, "2")]
    assert field_changes({"a": "1", "b": "2"}, {"a": "1"}) == [FieldChange("b", "b", "2", None)]
