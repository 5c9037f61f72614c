"""Fire the schedules that are due: one run per fire, whatever the number of coordinators.

The coordinator's leader-only loop calls :func:`fire_due_schedules` every
``scheduler_interval_seconds``. Each schedule that is due is handled in ONE transaction
of its own (``docs/schedules.md``):

1. its row is locked with ``SELECT ... FOR UPDATE SKIP LOCKED`` (a second coordinator
   passes over it; PostgreSQL re-checks ``next_fire_at <= now`` on a row another
   transaction has just advanced, so it is not fired twice). On SQLite the clause is
   omitted: transactions begin IMMEDIATE (``syncbucket.db.engine``), so there writers
   take turns anyway;
2. the instants due since ``next_fire_at`` are sorted out:

   - the newest instant missed by at most the grace (``schedule_misfire_grace_seconds``,
     never less than ``ON_TIME``: a tick or a busy database is not a misfire) is fired,
     ONCE -- never a burst of catch-up runs;
   - every older instant is a misfire: ONE ``skipped_misfire`` row (at the first missed
     instant) says how many were missed and from when to when;

3. the fire itself: if the schedule's last run has not completed, ``skipped_running``
   naming that run (fires never overlap); else :func:`create_run` (source ``schedule``,
   idempotency key ``schedule:<id>:<fire time UTC>``) and ``started`` with its run --
   or, when the pipeline refuses (no active client matches...), ``refused`` with its
   message, the schedule staying active;
4. ``next_fire_at`` moves to the first instant after ``now``.

The unique ``(schedule_id, fire_time)`` of ``schedule_fires`` and the run's idempotency
key back the lock up: a transaction that finds its fire already recorded rolls back
whole, run included. Each fire is counted (``syncbucket_schedule_fires_total``) and
logged at INFO after its commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import chain, islice

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from syncbucket.db.runs import Run
from syncbucket.db.schedules import FireOutcome, Schedule, ScheduleFire
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.runs import RunSource
from syncbucket.metrics import record
from syncbucket.pipeline.errors import RunRefused
from syncbucket.pipeline.requests import RunRequest
from syncbucket.pipeline.runs import create_run
from syncbucket.schedules.cron import Recurrence
from syncbucket.schedules.errors import InvalidSchedule
from syncbucket.schedules.spec import Selection, modules_from_document

logger = logging.getLogger(__name__)

# Late by this much is on time whatever the grace: the loop's tick, a slow transaction.
ON_TIME = timedelta(minutes=1)
# Missed instants counted for the misfire row's words; beyond, "more than 1,000".
MISFIRES_COUNTED = 1000
# Schedules handled per call; any others still due are handled by the next tick.
MAX_SCHEDULES_PER_CALL = 200
MAX_REASON = 500  # schedule_fires.reason is VARCHAR(500)


@dataclass(frozen=True)
class FireResult:
    """One ``schedule_fires`` row written (and committed) by this call."""

    schedule_id: int
    firm_id: int
    schedule_name: str
    fire_time: datetime
    outcome: FireOutcome
    run_id: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class FireReport:
    """What one call did, oldest first; empty when nothing was due."""

    fires: tuple[FireResult, ...] = ()

    def count(self, outcome: FireOutcome) -> int:
        return sum(1 for fire in self.fires if fire.outcome == outcome)

    @property
    def run_ids(self) -> list[int]:
        return [fire.run_id for fire in self.fires if fire.run_id is not None]


class _AlreadyRecorded(Exception):
    """Another transaction recorded this fire first: roll back everything, run included."""

    def __init__(self, schedule_id: int) -> None:
        super().__init__(f"schedule {schedule_id}: fire already recorded")
        self.schedule_id = schedule_id


def fire_due_schedules(
    sessions: SessionFactory,
    now: datetime,
    *,
    grace: timedelta,
    limit: int = MAX_SCHEDULES_PER_CALL,
) -> FireReport:
    """Fire every schedule due at ``now`` (at most ``limit`` of them), one transaction each.

    ``grace``: how late a missed fire may still run (``schedule_misfire_grace_seconds``).
    Database errors propagate (the caller's loop logs them and backs off); a schedule
    whose stored cron or time zone cannot be read is paused with a ``refused`` fire.
    """
    fires: list[FireResult] = []
    handled: set[int] = set()
    while len(handled) < limit:
        try:
            with unit_of_work(sessions) as session:
                decided = _fire_next_due(session, now, grace, handled)
        except _AlreadyRecorded as lost:
            handled.add(lost.schedule_id)
            logger.info("schedule %d: another coordinator fired it first", lost.schedule_id)
            continue
        if decided is None:
            break
        schedule_id, results = decided
        handled.add(schedule_id)
        for fire in results:  # committed: now it happened
            record.schedule_fired(fire.outcome.value)
            _log(fire)
        fires.extend(results)
    return FireReport(tuple(fires))


def _fire_next_due(
    session: Session, now: datetime, grace: timedelta, handled: Collection[int]
) -> tuple[int, list[FireResult]] | None:
    query = (
        sa.select(Schedule)
        .where(Schedule.active.is_(True), Schedule.next_fire_at <= now)
        .order_by(Schedule.next_fire_at, Schedule.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if handled:
        query = query.where(Schedule.id.not_in(sorted(handled)))
    schedule = session.scalars(query).first()
    if schedule is None:
        return None
    return schedule.id, _decide(session, schedule, now, max(grace, ON_TIME))


def _decide(
    session: Session, schedule: Schedule, now: datetime, grace: timedelta
) -> list[FireResult]:
    due = schedule.next_fire_at
    assert due is not None, "selected as due, so next_fire_at is set"
    try:
        recurrence = Recurrence.parse(schedule.cron, schedule.time_zone)
    except InvalidSchedule as exc:
        return [_stop_unreadable(session, schedule, due, now, exc)]
    on_time = _newest_within_grace(recurrence, due, now, grace)
    results: list[FireResult] = []
    missed = _missed(recurrence, due, on_time, now)
    if missed is not None:
        reason = missed.reason(recurrence, on_time, now, grace)
        results.append(
            _record(session, schedule, due, FireOutcome.SKIPPED_MISFIRE, now, reason=reason)
        )
    if on_time is not None:
        results.append(_fire(session, schedule, on_time, now))
    try:
        schedule.next_fire_at = recurrence.next_after(now)
    except InvalidSchedule as exc:  # no instant left: nothing more to fire
        results.append(_stop_unreadable(session, schedule, None, now, exc))
    return results


def _newest_within_grace(
    recurrence: Recurrence, due: datetime, now: datetime, grace: timedelta
) -> datetime | None:
    """The newest instant in ``[now - grace, now]`` from ``due`` on: the one that runs."""
    window_start = now - grace
    candidates: Iterator[datetime]
    if due >= window_start:
        candidates = chain([due], recurrence.instants(due, now))
    else:  # instants strictly after the moment just before the window: the window's own
        candidates = recurrence.instants(window_start - timedelta(microseconds=1), now)
    newest = None
    for instant in candidates:
        newest = instant
    return newest


@dataclass(frozen=True)
class _Missed:
    first: datetime
    last: datetime
    count: int
    more: bool  # more than ``count`` (counting stopped at MISFIRES_COUNTED)

    def reason(
        self, recurrence: Recurrence, on_time: datetime | None, now: datetime, grace: timedelta
    ) -> str:
        when = _local_words(recurrence)
        if self.count == 1:
            what = f"missed the fire of {when(self.first)}"
        elif self.more:
            what = f"missed more than {self.count:,} fires from {when(self.first)}"
        else:
            what = f"missed {self.count:,} fires, {when(self.first)} to {when(self.last)}"
        what += " (no coordinator was running)"
        if on_time is not None:
            return f"{what}; only the latest, {when(on_time)}, runs"
        if self.more:  # the newest was not counted: say the rule, not its lateness
            return f"{what}; none within the {span_words(grace)} grace: not run"
        late = span_words(now - self.last)
        return f"{what}; {late} late, past the {span_words(grace)} grace: not run"


def _missed(
    recurrence: Recurrence, due: datetime, on_time: datetime | None, now: datetime
) -> _Missed | None:
    """The instants from ``due`` that will not run: all those before ``on_time``."""
    end = on_time if on_time is not None else now
    candidates = chain([due], recurrence.instants(due, end))
    counted = [
        i for i in islice(candidates, MISFIRES_COUNTED + 1) if on_time is None or i < on_time
    ]
    if not counted:
        return None
    more = len(counted) > MISFIRES_COUNTED
    shown = counted[:MISFIRES_COUNTED]
    return _Missed(first=shown[0], last=shown[-1], count=len(shown), more=more)


def _fire(session: Session, schedule: Schedule, instant: datetime, now: datetime) -> FireResult:
    running = _unfinished_run(session, schedule.last_run_id)
    if running is not None:
        reason = (
            f"run {running} of this schedule has not finished: fires never overlap, "
            "so this one is skipped"
        )
        return _record(session, schedule, instant, FireOutcome.SKIPPED_RUNNING, now, reason=reason)
    try:
        request = run_request(schedule, instant)
        with session.begin_nested():  # a refusal rolls back whatever create_run wrote
            created = create_run(session, request, now=now)
    except RunRefused as exc:
        return _record(session, schedule, instant, FireOutcome.REFUSED, now, reason=exc.message)
    except InvalidSchedule as exc:
        return _record(session, schedule, instant, FireOutcome.REFUSED, now, reason=str(exc))
    fire = _record(session, schedule, instant, FireOutcome.STARTED, now, run_id=created.run_id)
    schedule.last_run_id = created.run_id
    schedule.last_fire_at = instant
    return fire


def run_request(schedule: Schedule, instant: datetime) -> RunRequest:
    """The run one fire asks for (``InvalidSchedule`` if its stored choice went bad)."""
    selection = Selection.from_document(schedule.selection)
    modules = modules_from_document(schedule.modules)
    return RunRequest(
        firm_id=schedule.firm_id,
        modules=list(modules) if modules is not None else list(ModuleKey),
        client_filter=selection.client_filter,
        source=RunSource.SCHEDULE,
        idempotency_key=idempotency_key(schedule.id, instant),
        priority=schedule.priority,
        requested_by=f"schedule:{schedule.name}",
    )


def idempotency_key(schedule_id: int, instant: datetime) -> str:
    """``schedule:<id>:<fire time, ISO 8601 UTC>``: one run per (schedule, instant)."""
    return f"schedule:{schedule_id}:{instant.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"


def _unfinished_run(session: Session, run_id: int | None) -> int | None:
    if run_id is None:
        return None
    found = session.scalar(sa.select(Run.id).where(Run.id == run_id, Run.completed_at.is_(None)))
    return None if found is None else int(found)


def _stop_unreadable(
    session: Session,
    schedule: Schedule,
    due: datetime | None,
    now: datetime,
    problem: InvalidSchedule,
) -> FireResult:
    """A stored schedule that no longer parses cannot say when it fires next: pause it."""
    schedule.active = False
    schedule.next_fire_at = None
    schedule.updated_at = now
    reason = f"{problem}; the schedule is paused: remove it and add it again, corrected"
    return _record(session, schedule, due or now, FireOutcome.REFUSED, now, reason=reason)


def _record(
    session: Session,
    schedule: Schedule,
    fire_time: datetime,
    outcome: FireOutcome,
    now: datetime,
    *,
    run_id: int | None = None,
    reason: str | None = None,
) -> FireResult:
    """Insert the fire row (its unique key claims the fire) and say what it was."""
    shortened = None if reason is None else reason[:MAX_REASON]
    row = ScheduleFire(
        schedule_id=schedule.id,
        fire_time=fire_time,
        decided_at=now,
        outcome=outcome,
        run_id=run_id,
        reason=shortened,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise _AlreadyRecorded(schedule.id) from None
    return FireResult(
        schedule.id, schedule.firm_id, schedule.name, fire_time, outcome, run_id, shortened
    )


def _log(fire: FireResult) -> None:
    detail = f"run {fire.run_id}" if fire.run_id is not None else (fire.reason or "")
    logger.info(
        "schedule %r (id %d, firm %d): fire of %s %s: %s",
        fire.schedule_name,
        fire.schedule_id,
        fire.firm_id,
        fire.fire_time.isoformat(),
        fire.outcome.value,
        detail,
    )


def _local_words(recurrence: Recurrence) -> Callable[[datetime], str]:
    """Instants as a person at the firm reads them: ``03 Dec 2026 02:00 IST``."""

    def words(instant: datetime) -> str:
        local = recurrence.local(instant)
        return local.strftime("%d %b %Y %H:%M ") + (local.tzname() or recurrence.time_zone)

    return words


def span_words(span: timedelta) -> str:
    """``3 h``, ``1 d 2 h``, ``45 min``: a lateness or a grace as the reasons say it."""
    minutes = max(0, int(span.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d"] if days else []
    parts += [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes or not parts else []
    return " ".join(parts)
