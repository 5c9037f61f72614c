"""A cron expression read in an IANA time zone: the instants it names, as aware UTC datetimes.

Standard five-field cron (minute hour day-of-month month day-of-week, as ``crontab(5)``)
or one of its macros (``@hourly``, ``@daily``, ``@weekly``, ``@monthly``, ``@yearly``).
croniter walks the expression on time-zone-aware datetimes, so "02:00 in Asia/Kolkata"
is 20:30 UTC the day before, and clock changes in zones that have them behave like cron
itself (``docs/schedules.md``):

- a wall-clock time skipped when the clocks go forward fires once, at the first instant
  after the gap (croniter's own behaviour: "02:30" becomes 03:00 that day);
- a wall-clock time that happens twice when the clocks go back fires once, at its first
  occurrence -- unless the hour field is ``*`` ("every 30 minutes"), where the repeated
  hour's instants are real elapsed time and fire as usual.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, CroniterError, croniter

from syncbucket.schedules.errors import InvalidSchedule

MAX_CRON_LENGTH = 100  # schedules.cron is VARCHAR(100)
MAX_ZONE_LENGTH = 64  # schedules.time_zone is VARCHAR(64)
MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
FIELD_NAMES = "minute hour day-of-month month day-of-week"
CRON_EXAMPLE = '"0 2 * * *" (02:00 every day)'
# Five-field cron has no year, so an expression that fires at all fires after any moment:
# a fixed one keeps validation independent of the clock (a leap year, for 29 February).
EVER_SINCE = datetime(2000, 1, 1, tzinfo=UTC)
# Candidates examined per call before giving up: far more than any real expression needs
# between two fires (a repeated hour skips at most a few), so only a bug can reach it.
MAX_STEPS = 10_000


def parse_time_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (``Asia/Kolkata``, ``Europe/London``, ``UTC``...)."""
    cleaned = name.strip()
    if not cleaned:
        raise InvalidSchedule("time_zone", "give an IANA time zone, e.g. Asia/Kolkata")
    return _zone(cleaned)


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    problem = f"unknown time zone {name[:MAX_ZONE_LENGTH]!r}: use an IANA name, e.g. Asia/Kolkata"
    if len(name) > MAX_ZONE_LENGTH or name.startswith((".", "/")) or ".." in name:
        raise InvalidSchedule("time_zone", problem)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidSchedule("time_zone", problem) from None


def normalise_cron(expression: str) -> str:
    """The expression with its whitespace collapsed, refused when it is not 5-field cron."""
    cleaned = " ".join(expression.split())
    if not cleaned:
        raise InvalidSchedule("cron", f"give a cron expression, e.g. {CRON_EXAMPLE}")
    if len(cleaned) > MAX_CRON_LENGTH:
        raise InvalidSchedule("cron", f"at most {MAX_CRON_LENGTH} characters")
    expanded = MACROS.get(cleaned.lower(), cleaned)
    if expanded.startswith("@"):
        known = ", ".join(MACROS)
        raise InvalidSchedule("cron", f"unknown macro {cleaned!r}; known: {known}")
    count = len(expanded.split())
    if count != 5:
        raise InvalidSchedule(
            "cron", f"expected 5 fields ({FIELD_NAMES}), got {count}: e.g. {CRON_EXAMPLE}"
        )
    try:
        croniter(expanded)
    except CroniterError as exc:
        raise InvalidSchedule(
            "cron", f"{cleaned!r} is not a valid cron expression ({exc})"
        ) from None
    return cleaned.lower() if cleaned.lower() in MACROS else cleaned


@dataclass(frozen=True)
class Recurrence:
    """When a schedule fires: ``cron`` read in ``zone``. Build it with :meth:`parse`."""

    cron: str
    zone: ZoneInfo
    _expanded: str = field(repr=False)

    @classmethod
    def parse(cls, cron: str, time_zone: str) -> Recurrence:
        """Validated (``InvalidSchedule`` names ``cron`` or ``time_zone``)."""
        zone = parse_time_zone(time_zone)
        cleaned = normalise_cron(cron)
        recurrence = cls(cleaned, zone, MACROS.get(cleaned, cleaned))
        recurrence.next_after(EVER_SINCE)  # "0 0 31 2 *" parses, but never fires
        return recurrence

    @property
    def time_zone(self) -> str:
        return self.zone.key

    def next_after(self, moment: datetime) -> datetime:
        """The first instant strictly after ``moment`` (aware, UTC).

        ``InvalidSchedule`` (field ``cron``) when the expression never fires again, e.g.
        ``0 0 31 2 *`` (31 February).
        """
        for instant in self.instants(moment):
            return instant
        raise InvalidSchedule("cron", f"{self.cron!r} never fires (no such date)")

    def instants(self, after: datetime, until: datetime | None = None) -> Iterator[datetime]:
        """The instants in ``(after, until]`` (no end without ``until``), oldest first, UTC."""
        walker = croniter(self._expanded, after.astimezone(self.zone))
        fixed_hours = self._expanded.split()[1] != "*"
        previous = after.astimezone(UTC)
        for _ in range(MAX_STEPS):
            try:
                local: datetime = walker.get_next(datetime)
            except CroniterBadDateError:
                return
            instant = local.astimezone(UTC)
            if until is not None and instant > until:
                return
            if instant <= previous or (fixed_hours and _repeated_wall_time(local, self.zone)):
                continue
            previous = instant
            yield instant

    def local(self, instant: datetime) -> datetime:
        """``instant`` on the schedule's own clock."""
        return instant.astimezone(self.zone)


def _repeated_wall_time(local: datetime, zone: ZoneInfo) -> bool:
    """Is ``local`` the second occurrence of a wall-clock time (the clocks went back)?"""
    naive = local.replace(tzinfo=None)
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    ambiguous = first.utcoffset() != second.utcoffset() and _exists(second, zone)
    return ambiguous and local.utcoffset() == second.utcoffset()


def _exists(moment: datetime, zone: ZoneInfo) -> bool:
    """False for a wall-clock time inside a spring-forward gap (both folds map elsewhere)."""
    back = moment.astimezone(UTC).astimezone(zone)
    return back.replace(tzinfo=None) == moment.replace(tzinfo=None)
