"""How a module's rows are made: a base generation, then changes for each selected epoch.

Base rows come from ``random.Random(f"{tan}:{name}:0")``. For every epoch ``k`` in
``1..data_epoch`` a TAN is selected with probability ``change_ratio`` (decided by
``random.Random(f"{tan}:change:{k}")``, the same for every module of the portal); a selected
TAN's rows then get the changes drawn from ``random.Random(f"{tan}:{name}:{k}")``: some
changed values and/or some new rows, never nothing. Unselected TANs keep their rows.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

Row = dict[str, Any]
Generate = Callable[[random.Random, str], list[Row]]
AddRow = Callable[[random.Random, str, Sequence[Row]], Row | None]  # None: nothing to add
ChangeRow = Callable[[random.Random, Row], Row]

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Dataset:
    name: str
    generate: Generate
    add_row: AddRow
    change_row: ChangeRow | None = None


_REGISTRY: dict[str, Dataset] = {}


def register(dataset: Dataset) -> Dataset:
    _REGISTRY[dataset.name] = dataset
    return dataset


def changed_epochs(tan: str, epoch: int, change_ratio: float) -> list[int]:
    """The epochs (1..epoch) in which ``tan``'s documents change."""
    return [
        k for k in range(1, epoch + 1) if random.Random(f"{tan}:change:{k}").random() < change_ratio
    ]


@lru_cache(maxsize=4096)
def rows(name: str, tan: str, epoch: int = 0, change_ratio: float = 0.0) -> tuple[Row, ...]:
    """All rows of dataset ``name`` for ``tan``. Shared and cached: never mutate them."""
    dataset = _dataset(name)
    current = dataset.generate(random.Random(f"{tan}:{name}:0"), tan)
    for k in changed_epochs(tan, epoch, change_ratio):
        current = _apply_changes(dataset, random.Random(f"{tan}:{name}:{k}"), tan, current)
    return tuple(current)


def _apply_changes(dataset: Dataset, rng: random.Random, tan: str, current: list[Row]) -> list[Row]:
    result = list(current)
    changes = rng.randint(0, 2) if result and dataset.change_row is not None else 0
    additions = rng.randint(0 if changes else 1, 2)
    if dataset.change_row is not None:
        for index in rng.sample(range(len(result)), min(changes, len(result))):
            result[index] = dataset.change_row(rng, result[index])
    for _ in range(additions):
        new = dataset.add_row(rng, tan, result)
        if new is not None:
            result.append(new)
        elif result and dataset.change_row is not None:
            index = rng.randrange(len(result))
            result[index] = dataset.change_row(rng, result[index])
    return result


def page_count(total: int, page_size: int) -> int:
    return math.ceil(total / page_size)


def paginate(all_rows: Sequence[Row], page_no: int, page_size: int) -> dict[str, Any]:
    """The portals' page envelope; a page past the end has no rows."""
    start = (page_no - 1) * page_size
    return {
        "pageNo": page_no,
        "pageSize": page_size,
        "totalPages": page_count(len(all_rows), page_size),
        "totalRecords": len(all_rows),
        "rows": list(all_rows[start : start + page_size]),
    }


def big(rng: random.Random, share: float) -> bool:
    """Whether this TAN is one of the few big deductors (2+ pages at pageSize 50)."""
    return rng.random() < share


def _dataset(name: str) -> Dataset:
    if name not in _REGISTRY:  # the generator modules register themselves on import
        from syncbucket.portalsim.data import (
            itportal_data,
            traces_challans,
            traces_ldc,
            traces_returns,
        )

        del itportal_data, traces_challans, traces_ldc, traces_returns
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"no dataset {name!r}; known: {', '.join(sorted(_REGISTRY))}") from None
