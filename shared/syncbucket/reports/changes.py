"""The fields that differ between a record's previous and current content.

Both contents are flattened to dotted paths (lists by position: ``consumption[0].status``)
so a change deep inside a challan's breakup or consumption list shows as the one field
that changed, with its label, the old and the new value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from syncbucket.reports.columns import label_for


@dataclass(frozen=True)
class FieldChange:
    path: str
    label: str
    old: Any
    new: Any


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, inner in value.items():
            flat.update(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(value, list):
        flat = {}
        for index, inner in enumerate(value):
            flat.update(flatten(inner, f"{prefix}[{index}]"))
        return flat if flat else {prefix: []}
    return {prefix: value}


def field_changes(previous: dict[str, Any] | None, current: dict[str, Any]) -> list[FieldChange]:
    if previous is None:
        return []
    old, new = flatten(previous), flatten(current)
    paths = list(dict.fromkeys([*new, *old]))
    return [
        FieldChange(path, label_for(path), old.get(path), new.get(path))
        for path in paths
        if old.get(path) != new.get(path) and not _emptied(path, old, new)
    ]


def _emptied(path: str, old: dict[str, Any], new: dict[str, Any]) -> bool:
    """An empty list on one side, elements on the other: the elements' own paths tell the
    change; the bare list path (``consumption``: [] -> nothing) would only add noise."""
    return (old.get(path) == [] and path not in new) or (new.get(path) == [] and path not in old)
