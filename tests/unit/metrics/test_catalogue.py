"""docs/metrics.md and syncbucket.metrics cannot drift: same names, types and labels."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from syncbucket.metrics.catalogue import SyncBucketMetrics, build_metrics

DOC = Path(__file__).resolve().parents[3] / "docs" / "metrics.md"
ROW = re.compile(r"^\|\s*`(?P<name>[a-z_*]+)`\s*\|\s*(?P<type>\w+)\s*\|\s*(?P<labels>[^|]*)\|")
ID_LIKE = re.compile(r"(^|_)(id|ids|tan|pan|client|run|item|user|firm)$")


def documented() -> dict[str, tuple[str, tuple[str, ...]]]:
    rows: dict[str, tuple[str, tuple[str, ...]]] = {}
    for line in DOC.read_text().splitlines():
        match = ROW.match(line)
        if match and not match["name"].startswith("dramatiq_"):
            raw = match["labels"].strip()
            labels = () if raw in {"—", "-", ""} else tuple(x.strip() for x in raw.split(","))
            rows[match["name"]] = (match["type"], labels)
    return rows


def defined() -> dict[str, tuple[str, tuple[str, ...]]]:
    metrics = build_metrics(CollectorRegistry())
    result: dict[str, tuple[str, tuple[str, ...]]] = {}
    for field in SyncBucketMetrics.__dataclass_fields__:
        metric: Any = getattr(metrics, field)
        name = metric._name + ("_total" if metric._type == "counter" else "")
        result[name] = (metric._type, tuple(metric._labelnames))
    return result


def test_the_document_lists_metrics() -> None:
    assert len(documented()) >= 25


def test_every_documented_metric_is_defined_with_its_type_and_labels() -> None:
    assert defined() == documented()


@pytest.mark.parametrize("name", sorted(documented()))
def test_names_follow_prometheus_conventions(name: str) -> None:
    kind, labels = documented()[name]
    assert name.startswith("syncbucket_")
    assert re.fullmatch(r"[a-z][a-z0-9_]*", name)
    assert name.endswith("_total") == (kind == "counter"), "only counters end in _total"
    if kind == "histogram":
        assert name.endswith("_seconds"), "durations in base units"
    assert not re.search(r"_(milliseconds|ms|minutes|hours)\b", name)
    for label in labels:
        assert not ID_LIKE.search(label), f"{label} looks like an unbounded id"


def test_building_twice_on_one_registry_is_refused() -> None:
    registry = CollectorRegistry()
    build_metrics(registry)
    with pytest.raises(ValueError, match="Duplicated"):
        build_metrics(registry)
