"""Live progress of a run: bars per portal and per module, refreshed by polling.

``follow(fetch, console)`` calls ``fetch()`` (a fresh :class:`RunSummary`) every
``interval`` seconds until the run is terminal and returns the last summary; with
``console=None`` it polls silently (``--json``). The same display serves
``syncbucket run start --wait``, ``run watch`` and ``syncbucket demo``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from syncbucket.domain.portals import PORTAL_TITLES
from syncbucket.domain.runs import TERMINAL_RUN_STATUSES, RunStatus
from syncbucket.pipeline.views import RunSummary, StatusCounts

PORTAL_LABELS: dict[str, str] = {portal.value: title for portal, title in PORTAL_TITLES.items()}
BAR_WIDTH = 32
PENDING_HINT_SECONDS = 10.0


def total(counts: StatusCounts) -> int:
    return sum(counts.model_dump().values())


def done(counts: StatusCounts) -> int:
    return counts.succeeded + counts.failed + counts.skipped + counts.cancelled


def is_terminal(summary: RunSummary) -> bool:
    return RunStatus(summary.status) in TERMINAL_RUN_STATUSES


def _row(table: Table, label: str, counts: StatusCounts) -> None:
    size, finished = total(counts), done(counts)
    bar = ProgressBar(total=max(size, 1), completed=finished, width=BAR_WIDTH)
    failed = Text(str(counts.failed), style="red" if counts.failed else "dim")
    active = counts.queued + counts.running
    table.add_row(label, bar, f"{finished}/{size}", str(counts.succeeded), failed, str(active))


def progress_view(summary: RunSummary, elapsed: float) -> RenderableType:
    rate = summary.items_done / elapsed if elapsed > 0 else 0.0
    header = Text.assemble(
        (f"Run {summary.run_id}", "bold"),
        f"  {summary.status}  {summary.items_done}/{summary.total_items} items",
        f"  {elapsed:5.1f}s  {rate:6.1f} items/s",
    )
    table = Table(box=None, pad_edge=False, show_edge=False)
    for column in ("", "progress", "done", "ok", "failed", "in flight"):
        table.add_column(column, justify="left" if column in ("", "progress") else "right")
    for portal, counts in summary.by_portal.items():
        _row(table, PORTAL_LABELS.get(portal, portal), counts)
    table.add_section()
    for module, counts in summary.by_module.items():
        _row(table, module, counts)
    if summary.status == RunStatus.PENDING.value and elapsed > PENDING_HINT_SECONDS:
        hint = "nothing released yet: is the coordinator running? (syncbucket serve coordinator)"
        return Group(header, table, Text(hint, style="yellow"))
    return Group(header, table)


class RunTimedOut(Exception):
    """The run was not terminal when ``follow``'s timeout expired."""

    def __init__(self, summary: RunSummary, seconds: float) -> None:
        super().__init__(f"run {summary.run_id} still {summary.status} after {seconds:.0f}s")
        self.summary = summary


def follow(
    fetch: Callable[[], RunSummary],
    console: Console | None,
    interval: float = 0.5,
    timeout: float | None = None,
) -> RunSummary:
    """Poll until the run is terminal; show live progress on ``console`` if given.

    Raises :class:`RunTimedOut` after ``timeout`` seconds (None: wait as long as it takes).
    """
    started = time.monotonic()
    summary = fetch()
    live = Live(progress_view(summary, 0.0), console=console, refresh_per_second=4)
    with live if console is not None else nullcontext():
        while not is_terminal(summary):
            elapsed = time.monotonic() - started
            if timeout is not None and elapsed > timeout:
                raise RunTimedOut(summary, elapsed)
            time.sleep(interval)
            summary = fetch()
            if console is not None:
                live.update(progress_view(summary, time.monotonic() - started))
    if console is not None and not console.is_terminal:
        console.line()  # off a terminal, Live's last frame ends without a newline
    return summary
