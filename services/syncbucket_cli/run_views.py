"""How ``syncbucket run`` shows runs: the summary, the run list, the exception report (CSV)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from syncbucket.pipeline.views import ExceptionRow, RunListEntry, RunSummary, StatusCounts
from syncbucket_cli.progress import PORTAL_LABELS, total

STATUS_STYLE = {
    "completed": "green",
    "completed_with_errors": "yellow",
    "cancelled": "magenta",
    "running": "cyan",
    "pending": "dim",
}


def error_counts(rows: Iterable[ExceptionRow]) -> Counter[str]:
    return Counter(row.error_code or "unknown" for row in rows)


def _counts_row(table: Table, label: str, counts: StatusCounts) -> None:
    table.add_row(
        label,
        str(total(counts)),
        str(counts.succeeded),
        Text(str(counts.failed), style="red" if counts.failed else ""),
        str(counts.skipped),
        str(counts.cancelled),
        str(counts.pending + counts.queued + counts.running),
    )


def summary_view(summary: RunSummary, errors: Counter[str]) -> RenderableType:
    took = f" in {summary.duration_seconds:.1f}s" if summary.duration_seconds is not None else ""
    style = STATUS_STYLE.get(summary.status, "")
    title = Text.assemble(
        (f"Run {summary.run_id} ", "bold"), (summary.status, f"bold {style}"), took
    )
    table = Table("", "items", "ok", "failed", "skipped", "cancelled", "open", title=title)
    _counts_row(table, "all", summary.counts)
    table.add_section()
    for portal, counts in summary.by_portal.items():
        _counts_row(table, PORTAL_LABELS.get(portal, portal), counts)
    table.add_section()
    for module, counts in summary.by_module.items():
        _counts_row(table, module, counts)
    lines: list[RenderableType] = [
        table,
        f"records: {summary.records_new} new, {summary.records_changed} changed",
    ]
    if errors:
        shown = ", ".join(f"{code} {n}" for code, n in errors.most_common())
        lines.append(Text(f"failures by error code: {shown}", style="yellow"))
    return Group(*lines)


def runs_view(firm_name: str, runs: Sequence[RunListEntry]) -> Table:
    table = Table("Run", "Status", "Source", "Modules", "Items", "ok", "failed", "Created (UTC)")
    table.title = f"{firm_name}: {len(runs)} most recent runs"
    for run in runs:
        table.add_row(
            str(run.run_id),
            Text(run.status, style=STATUS_STYLE.get(run.status, "")),
            run.source,
            ", ".join(run.modules),
            str(run.total_items),
            str(run.items_succeeded),
            str(run.items_failed),
            run.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
    return table


def exceptions_view(run_id: int, rows: Sequence[ExceptionRow]) -> Table:
    table = Table("Client", "TAN", "Module", "Portal", "Error", "Message", "Attempts")
    table.title = f"Run {run_id}: {len(rows)} failed items"
    for row in rows:
        table.add_row(
            row.client_name,
            row.tan,
            row.module,
            PORTAL_LABELS.get(row.portal, row.portal),
            row.error_code or "",
            row.error_message or "",
            str(row.attempts),
        )
    return table
