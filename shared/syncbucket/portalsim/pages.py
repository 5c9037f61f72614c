"""What every data page of either portal does: pick the TAN's rows, check paging, slice."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from syncbucket.portalsim.data import paginate, rows
from syncbucket.portalsim.data.dataset import Row
from syncbucket.portalsim.replies import Reply, page_problem
from syncbucket.portalsim.state import SimulatorState


def portal_rows(state: SimulatorState, portal: str, dataset: str, tan: str) -> tuple[Row, ...]:
    """The TAN's rows of ``dataset`` as the portal's data knobs (epoch, change ratio) say."""
    settings = state.faults(portal)
    return rows(dataset, tan, settings.data_epoch, settings.change_ratio)


def checked_page(
    all_rows: Sequence[Row],
    page_no: int,
    page_size: int,
    refuse: Callable[[str], Reply],
) -> dict[str, Any]:
    """One page of ``all_rows``; bad paging is refused in the portal's own error shape."""
    problem = page_problem(page_no, page_size)
    if problem:
        raise refuse(problem)
    return paginate(all_rows, page_no, page_size)
