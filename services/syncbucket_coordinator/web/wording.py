"""Numbers, dates, durations and statuses in the words the pages use."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from syncbucket.domain.portals import MODULE_TITLES, PORTAL_TITLES, ModuleKey, Portal
from syncbucket.pipeline.views import RunSummary

DASH = "\u2013"  # an en dash: "no value" in a table cell

RUN_STATUS_WORDS = {
    "pending": "Waiting to start",
    "running": "Running",
    "completed": "Completed",
    "completed_with_errors": "Completed with errors",
    "cancelled": "Cancelled",
}
SOURCE_WORDS = {
    "ui": "web page",
    "api": "API",
    "cli": "command line",
    "event": "upstream event",
    "schedule": "schedule",
    "retry": "re-sync of failures",
}
# What a schedule's fire did, and the status mark it gets (docs/schedules.md).
FIRE_OUTCOME_WORDS = {
    "started": "Started",
    "skipped_running": "Skipped: its previous sync was still running",
    "skipped_misfire": "Missed: the servers were down",
    "refused": "Refused",
}
FIRE_OUTCOME_MARKS = {
    "started": "ok",
    "skipped_running": "never",
    "skipped_misfire": "never",
    "refused": "failed",
}
CREDENTIAL_WORDS = {
    "ok": "OK",
    "rejected": "rejected at last login",
    "locked": "locked",
    "missing": "missing",
    "unchecked": "not checked yet",
}


def who(requested_by: str | None) -> str:
    """A run's starter in words: ``ui:asha@firm.in`` -> ``asha@firm.in``."""
    if not requested_by:
        return "unknown"
    kind, _, name = requested_by.partition(":")
    if kind == "ui" and name:
        return name
    if kind == "api" and name:
        return f"API token {name}…"
    if kind == "cli" and name:
        return f"{name} (command line)"
    if kind == "schedule" and name:
        return f"schedule “{name}”"
    return requested_by


def number(value: int | float | None) -> str:
    if value is None:
        return DASH
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{number(count)} {one if count == 1 else (many or one + 's')}"


def amount(value: Any) -> str:
    """Rupees with Indian digit grouping: 1,23,45,678.00."""
    if value is None or value == "":
        return ""
    try:
        figure = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    sign = "-" if figure < 0 else ""
    whole, _, fraction = f"{abs(figure):.2f}".partition(".")
    head, tail = whole[:-3], whole[-3:]
    groups: list[str] = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    return sign + ",".join([*groups, tail]) + "." + fraction


class Clock:
    """Formats instants in the firm's time zone (``SYNCBUCKET_WEB_TIME_ZONE``)."""

    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)

    def when(self, moment: datetime | None) -> str:
        if moment is None:
            return DASH
        local = moment.astimezone(self.zone)
        return local.strftime("%d %b %Y, %H:%M ") + (local.tzname() or "")

    def iso(self, moment: datetime | None) -> str:
        return "" if moment is None else moment.astimezone(self.zone).isoformat(timespec="seconds")


def day(value: Any) -> str:
    """A date from a record's content (ISO text) as ``28 Feb 2026``."""
    if value is None or value == "":
        return ""
    try:
        return date.fromisoformat(str(value)[:10]).strftime("%d %b %Y")
    except ValueError:
        return str(value)


def rate(per_second: float) -> str:
    """``5/s``, ``2.5/s``, ``1,000/s``."""
    return f"{per_second:,.0f}/s" if per_second == round(per_second) else f"{per_second:,.1f}/s"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return DASH
    if seconds < 1:
        return "under a second"
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s" if minutes < 10 else f"{minutes} min"
    return f"{secs} s"


def module_title(key: str) -> str:
    try:
        return MODULE_TITLES[ModuleKey(key)]
    except ValueError:
        return key


def portal_title(key: str) -> str:
    try:
        return PORTAL_TITLES[Portal(key)]
    except ValueError:
        return key


def cell(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "amount":
        return amount(value)
    if kind == "date":
        return day(value)
    return str(value)


def status_message(summary: RunSummary) -> str:
    """The run in one sentence, e.g. ``Sync completed: 2,075 of 2,100 items updated, 25
    need attention.``"""
    total, counts = summary.total_items, summary.counts
    ok, failed = counts.succeeded, counts.failed
    attention = f", {number(failed)} need attention" if failed else ""
    if summary.status == "completed":
        return f"Sync completed: all {plural(total, 'item')} updated."
    if summary.status == "completed_with_errors":
        return f"Sync completed: {number(ok)} of {plural(total, 'item')} updated{attention}."
    if summary.status == "cancelled":
        skipped = counts.cancelled + counts.skipped
        return (
            f"Sync cancelled: {number(ok)} of {plural(total, 'item')} updated, "
            f"{number(skipped)} not started{attention}."
        )
    if summary.status == "pending":
        return f"Waiting to start: {plural(total, 'item')} queued behind other work."
    done = summary.items_done
    return (
        f"Sync running: {number(done)} of {plural(total, 'item')} done "
        f"({number(ok)} updated{attention})."
    )
