"""Each module's columns: complete, real paths into real records, one label per path."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from syncbucket.db.records_tables import MODULE_MODELS
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.records import NoticeOrder, OutstandingDemand, Record
from syncbucket.portals.registry import parts_for
from syncbucket.reports.columns import COLUMNS, LABELS, Column, label_for, value_at
from tests.support.records import one_of_each

SAMPLES: dict[type[Record], Record] = {type(record): record for record in one_of_each()}
_ABSENT = object()


def lookup(content: dict[str, Any], path: str) -> Any:
    """The value at ``path``, or _ABSENT when some step of it does not exist."""
    value: Any = content
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _ABSENT
        value = value[part]
    return value


def test_every_module_has_columns() -> None:
    assert set(COLUMNS) == set(ModuleKey)
    assert all(COLUMNS[module] for module in ModuleKey)


@pytest.mark.parametrize("module", list(ModuleKey))
def test_every_path_exists_in_a_real_record(module: ModuleKey) -> None:
    record_type = MODULE_MODELS[module].record_type
    assert {p.record_type for p in parts_for(module)} == {record_type}
    content = SAMPLES[record_type].content()
    missing = [c.path for c in COLUMNS[module] if lookup(content, c.path) is _ABSENT]
    assert missing == []


@pytest.mark.parametrize("module", list(ModuleKey))
def test_paths_and_labels_are_unique_within_a_module(module: ModuleKey) -> None:
    paths = [c.path for c in COLUMNS[module]]
    labels = [c.label for c in COLUMNS[module]]
    assert len(set(paths)) == len(paths)
    assert len(set(labels)) == len(labels)


def test_a_path_has_one_label_in_every_module() -> None:
    """LABELS is keyed by path alone: two modules must not call one path differently."""
    seen: dict[str, set[str]] = {}
    for columns in COLUMNS.values():
        for column in columns:
            seen.setdefault(column.path, set()).add(column.label)
    assert {path: labels for path, labels in seen.items() if len(labels) > 1} == {}
    assert {path: LABELS[path] for path in seen} == {p: next(iter(ls)) for p, ls in seen.items()}


@pytest.mark.parametrize("module", list(ModuleKey))
def test_kinds_match_the_values(module: ModuleKey) -> None:
    content = SAMPLES[MODULE_MODELS[module].record_type].content()
    for column in COLUMNS[module]:
        value = column.value(content)
        assert column.kind in ("text", "date", "amount")
        if value is None:
            continue
        if column.kind == "date":
            date.fromisoformat(value)
        elif column.kind == "amount":
            Decimal(value)
        else:
            assert isinstance(value, str), column.path


def test_values_of_a_challan() -> None:
    content = SAMPLES[MODULE_MODELS[ModuleKey.FETCH_CHALLANS].record_type].content()
    cells = {c.label: c.value(content) for c in COLUMNS[ModuleKey.FETCH_CHALLANS]}
    assert cells["Date of deposit"] == "2025-07-07"
    assert cells["Challan no"] == "00893"
    assert cells["Amount"] == "1000.00"
    assert cells["Tax"] == "1000.00"  # from breakup.tax
    assert cells["Interest"] == "0.00"
    assert cells["Bank"] == "State Bank of India"


def test_source_is_shown_in_words() -> None:
    notice = next(r for r in one_of_each() if isinstance(r, NoticeOrder))
    assert value_at(notice.content(), "source") == "e-Proceedings (IT portal)"
    request = replace(notice, source="traces_request")
    assert value_at(request.content(), "source") == "TRACES request"
    odd = replace(notice, source="something_new")
    assert value_at(odd.content(), "source") == "something_new"
    # only the source column is translated
    assert value_at({"title": "eproceeding"}, "title") == "eproceeding"


def test_value_at_missing_and_non_dict_steps() -> None:
    content = {"a": {"b": "1"}, "c": None, "d": "text"}
    assert value_at(content, "a.b") == "1"
    assert value_at(content, "a.x") is None
    assert value_at(content, "c.anything") is None
    assert value_at(content, "d.inner") is None
    assert value_at(content, "nope") is None
    assert Column("a.b", "B").value(content) == "1"


def test_outstanding_demand_without_components() -> None:
    record = next(r for r in one_of_each() if isinstance(r, OutstandingDemand))
    content = replace(record, components=None).content()
    cells = {c.path: c.value(content) for c in COLUMNS[ModuleKey.OUTSTANDING_DEMAND]}
    assert cells["cpc_demand"] == "1520.00"
    assert cells["components.net_payable"] is None


def test_label_for() -> None:
    assert label_for("breakup.interest") == "Interest"
    assert label_for("fin_year") == "FY"
    assert label_for("bank_reference_no") == "bank reference no"
    assert label_for("consumption[1].claimed_amount") == "consumption[1] › claimed amount"
