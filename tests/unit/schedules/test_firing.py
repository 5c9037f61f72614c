"""fire_due_schedules on SQLite with a fake clock: one run per fire, never two at once,
misfires within the grace run once, older ones are recorded, refusals are recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from syncbucket.db.clients import Client
from syncbucket.db.runs import Run
from syncbucket.db.schedules import FireOutcome, Schedule, ScheduleFire
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.runs import RunSource
from syncbucket.schedules.firing import fire_due_schedules, idempotency_key
from syncbucket.schedules.manage import pause_schedule, resume_schedule
from tests.unit.schedules.support import (
    Clock,
    end_run,
    fire,
    fires,
    make_firm,
    runs,
    schedule,
    view,
)

FIRST = datetime(2026, 11, 30, 20, 30, tzinfo=UTC)  # 01 Dec 2026 02:00 IST
DAY = timedelta(days=1)


def fired_total(outcome: str) -> float:
    return REGISTRY.get_sample_value("syncbucket_schedule_fires_total", {"outcome": outcome}) or 0.0


def test_nothing_fires_before_the_instant(session_factory: SessionFactory, clock: Clock) -> None:
    firm = make_firm(session_factory)
    made = schedule(session_factory, firm, clock)
    assert made.next_fire_at == FIRST and made.next_fire_local == "2026-12-01T02:00+05:30"
    clock.set(FIRST - timedelta(seconds=1))
    assert fire(session_factory, clock).fires == ()
    assert runs(session_factory, firm) == [] and fires(session_factory, made.id) == []


def test_a_due_schedule_starts_one_run_and_moves_to_the_next_instant(
    session_factory: SessionFactory, clock: Clock
) -> None:
    firm = make_firm(session_factory, clients=3)
    made = schedule(session_factory, firm, clock, modules=["verify_ldc"], priority=4)
    before = fired_total("started")
    clock.set(FIRST + timedelta(seconds=3))
    report = fire(session_factory, clock)
    assert [f.outcome for f in report.fires] == [FireOutcome.STARTED]
    (run,) = runs(session_factory, firm)
    assert report.run_ids == [run.id]
    assert run.source == RunSource.SCHEDULE and run.requested_by == "schedule:nightly"
    assert run.idempotency_key == f"schedule:{made.id}:2026-11-30T20:30:00Z"
    assert run.idempotency_key == idempotency_key(made.id, FIRST)
    assert (run.total_items, run.modules, run.priority) == (3, ["verify_ldc"], 4)
    assert run.selection == {"kind": "all"}
    after = view(session_factory, firm, made.id)
    assert after.last_run_id == run.id and after.last_fire_at == FIRST
    assert after.next_fire_at == FIRST + DAY
    assert [(f.outcome, f.fire_time, f.run_id) for f in after.recent_fires] == [
        ("started", FIRST, run.id)
    ]
    assert fired_total("started") == before + 1
    # Called again at the same moment (another tick): nothing is due any more.
    assert fire(session_factory, clock).fires == ()
    assert len(runs(session_factory, firm)) == 1


def test_priority_defaults_to_the_schedule_source_default(
    session_factory: SessionFactory, clock: Clock
) -> None:
    firm = make_firm(session_factory)
    made = schedule(session_factory, firm, clock)
    assert made.priority is None and made.effective_priority == 0
    clock.set(FIRST)
    fire(session_factory, clock)
    (run,) = runs(session_factory, firm)
    assert run.priority == 0 and run.modules == [key.value for key in ModuleKey]


def test_a_filter_schedule_syncs_the_clients_the_filter_matches_when_it_fires(
    session_factory: SessionFactory, clock: Clock
) -> None:
    firm = make_firm(session_factory, clients=4)
    schedule(session_factory, firm, clock, client_filter={"search": "Client 00002"})
    clock.set(FIRST)
    fire(session_factory, clock)
    (run,) = runs(session_factory, firm)
    assert run.client_count == 1
    assert run.selection == {"kind": "filter", "filter": {"search": "Client 00002"}}


def test_fires_never_overlap(session_factory: SessionFactory, clock: Clock) -> None:
    firm = make_firm(session_factory)
    made = schedule(session_factory, firm, clock)
    clock.set(FIRST)
    (first,) = fire(session_factory, clock).run_ids
    before = fired_total("skipped_running")
    clock.set(FIRST + DAY)  # the run of yesterday is still going
    report = fire(session_factory, clock)
    assert [f.outcome for f in report.fires] == [FireOutcome.SKIPPED_RUNNING]
    assert report.fires[0].reason is not None and f"run {first} " in report.fires[0].reason
    assert "never overlap" in report.fires[0].reason
    assert len(runs(session_factory, firm)) == 1
    assert fired_total("skipped_running") == before + 1
    after = view(session_factory, firm, made.id)
    assert after.next_fire_at == FIRST + 2 * DAY and after.last_run_id == first
    end_run(session_factory, firm, first, clock())
    clock.set(FIRST + 2 * DAY)
    report = fire(session_factory, clock)
    assert [f.outcome for f in report.fires] == [FireOutcome.STARTED]
    assert len(runs(session_factory, firm)) == 2
    assert [f.outcome for f in view(session_factory, firm, made.id).recent_fires] == [
        "started",
        "skipped_running",
        "started",
    ]


def test_a_fire_missed_by_less_than_the_grace_runs_once_on_recovery(
    session_factory: SessionFactory, clock: Clock
) -> None:
    firm = make_firm(session_factory)
    made = schedule(session_factory, firm, clock)
    clock.set(FIRST + timedelta(minutes=40))  # the coordinator came back 40 minutes late
    report = fire(session_factory, clock, grace=timedelta(hours=1))
    assert [(f.outcome, f.fire_time) for f in report.fires] == [(FireOutcome.STARTED, FIRST)]
    assert len(runs(session_factory, firm)) == 1
    assert view(session_factory, firm, made.id).next_fire_at == FIRST + DAY


def test_a_fire_missed_by_more_than_the_grace_is_recorded_not_run(
    session_factory: SessionFactory, clock: Clock
) -> None:
    firm = make_firm(session_factory)
    made = schedule(session_factory, firm, clock)
    before = fired_total("skipped_misfire")
    clock.set(FIRST + timedelta(hours=3))
    report = fire(session_factory, clock, grace=timedelta(hours=1))
    assert [(f.outcome, f.fire_time) for f in report.fires] == [
        (FireOutcome.SKIPPED_MISFIRE, FIRST)
    ]
    reason = report.fires[0].reason or ""
    assert "missed the fire of 01 Dec 2026 02:00 IST" in reason
    assert "(no coordinator was running); 3 h late, past the 1 h grace: not run" in reason
    assert runs(session_factory, firm) == []
    assert fired_total("skipped_misfire") == before + 1
    assert view(session_factory, firm, made.id).next_fire_at == FIRST + DAY


def test_a_long_outage_is_one_misfire_row_and_at_most_one_run(
    session_factory: SessionFactory, clock: Clock
) -> None:
    firm = make_firm(session_factory)
    made = schedule(session_factory, firm, clock, cron="0 * * * *")  # :00 IST = :30 UTC
    first = view(session_factory, firm, made.id).next_fire_at
    assert first == datetime(2026, 11, 30, 19, 30, tzinfo=UTC)
    clock.set(datetime(2026, 12, 1, 0, 40, tzinfo=UTC))  # 19:30 .. 00:30 UTC: 6 instants
    report = fire(session_factory, clock, grace=timedelta(hours=1))
    assert [(f.outcome, f.fire_time) for f in report.fires] == [
        (FireOutcome.SKIPPED_MISFIRE, first),
        (FireOutcome.STARTED, datetime(2026, 12, 1, 0, 30, tzinfo=UTC)),
    ]
    assert "missed 5 fires, 01 Dec 2026 01:00 IST to 01 Dec 2026 05:00 IST (no coordinator" in (
        report.fires[0].reason or ""
    )
    assert "; only the latest, 01 Dec 2026 06:00 IST, runs" in (report.fires[0].reason or "")
    assert len(runs(session_factory, firm)) == 1
    assert view(session_factory, firm, made.id).next_fire_at == datetime(
        2026, 12, 1, 1, 30, tzinfo=UTC
    )


def test_a_week_of_minutely_fires_missed_is_still_one_row(
    session_factory: SessionFactory, clock: Clock
) -> None:
    firm = make_firm(session_factory)
    made = schedule(session_factory, firm, clock, cron="* * * * *")
    clock.advance(days=7, seconds=30)
    report = fire(session_factory, clock, grace=timedelta(0))
    assert [f.outcome for f in report.fires] == [FireOutcome.SKIPPED_MISFIRE, FireOutcome.STARTED]
    assert "missed more than 1,000 fires from 01 Dec 2026 00:01 IST" in (
        report.fires[0].reason or ""
    )
    assert len(fires(session_factory, made.id)) == 2 and len(runs(session_factory, firm)) == 1


def test_a_refused_run_is_recorded_and_the_schedule_stays_active(
    session_factory: SessionFactory, clock: Clock
) -> None:
    firm = make_firm(session_factory)
    made = schedule(
        session_factory, firm, clock, client_filter={"never_synced": False, "search": "Nobody"}
    )
    before = fired_total("refused")
    clock.set(FIRST)
    report = fire(session_factory, clock)
    assert [f.outcome for f in report.fires] == [FireOutcome.REFUSED]
    assert report.fires[0].reason == "no active client matches the filter (matching “Nobody”)"
    assert runs(session_factory, firm) == []
    after = view(session_factory, firm, made.id)
    assert after.active and after.next_fire_at == FIRST + DAY and after.last_run_id is None
    assert fired_total("refused") == before + 1
    with unit_of_work(session_factory) as session:  # nothing of the refused run was kept
        assert session.scalar(sa.select(sa.func.count()).select_from(Run)) == 0


def test_a_firm_whose_clients_all_went_inactive_is_refused_too(
    session_factory: SessionFactory, clock: Clock
) -> None:
    firm = make_firm(session_factory)
    schedule(session_factory, firm, clock)
    with unit_of_work(session_factory) as session:
        session.execute(sa.update(Client).where(Client.firm_id == firm.id).values(active=False))
    clock.set(FIRST)
    (refused,) = fire(session_factory, clock).fires
    assert refused.outcome == FireOutcome.REFUSED and "is active" in (refused.reason or "")


def test_a_paused_schedule_never_fires_and_resumes_from_now(
    session_factory: SessionFactory, clock: Clock
) -> None:
    firm = make_firm(session_factory)
    made = schedule(session_factory, firm, clock)
    with unit_of_work(session_factory) as session:
        paused = pause_schedule(session, firm.id, made.id, clock())
    assert not paused.active and paused.next_fire_at is None
    for day in range(3):
        clock.set(FIRST + day * DAY)
        assert fire(session_factory, clock).fires == ()
    assert runs(session_factory, firm) == [] and fires(session_factory, made.id) == []
    clock.set(FIRST + 2 * DAY + timedelta(hours=1))
    with unit_of_work(session_factory) as session:
        resumed = resume_schedule(session, firm.id, made.id, clock())
    # The instants that passed while paused were never due: no misfire, no catch-up.
    assert resumed.active and resumed.next_fire_at == FIRST + 3 * DAY
    assert fire(session_factory, clock).fires == ()
    clock.set(FIRST + 3 * DAY)
    assert [f.outcome for f in fire(session_factory, clock).fires] == [FireOutcome.STARTED]


def test_each_due_schedule_fires_in_its_own_transaction(
    session_factory: SessionFactory, clock: Clock
) -> None:
    firm = make_firm(session_factory)
    other = make_firm(session_factory)
    schedule(session_factory, firm, clock, name="a")
    schedule(session_factory, firm, clock, name="b", client_filter={"search": "Nobody"})
    schedule(session_factory, other, clock, name="a")
    clock.set(FIRST)
    report = fire(session_factory, clock)
    assert sorted(f.outcome.value for f in report.fires) == ["refused", "started", "started"]
    assert len(runs(session_factory, firm)) == 1 and len(runs(session_factory, other)) == 1


def test_the_limit_leaves_the_rest_for_the_next_call(
    session_factory: SessionFactory, clock: Clock
) -> None:
    firm = make_firm(session_factory)
    for name in ("a", "b", "c"):
        schedule(session_factory, firm, clock, name=name)
    clock.set(FIRST)
    assert (
        len(fire_due_schedules(session_factory, clock(), grace=timedelta(hours=1), limit=2).fires)
        == 2
    )
    assert len(fire(session_factory, clock).fires) == 1
    assert len(runs(session_factory, firm)) == 3


def test_a_stored_cron_that_no_longer_parses_pauses_the_schedule(
    session_factory: SessionFactory, clock: Clock
) -> None:
    firm = make_firm(session_factory)
    made = schedule(session_factory, firm, clock)
    with unit_of_work(session_factory) as session:  # edited by hand in the database
        session.execute(sa.update(Schedule).values(time_zone="Nowhere/Land"))
    clock.set(FIRST)
    (refused,) = fire(session_factory, clock).fires
    assert refused.outcome == FireOutcome.REFUSED
    assert "unknown time zone 'Nowhere/Land'" in (refused.reason or "")
    assert "the schedule is paused" in (refused.reason or "")
    after = view(session_factory, firm, made.id)
    assert not after.active and after.next_fire_at is None
    assert fire(session_factory, clock).fires == ()


@pytest.mark.parametrize("stored", [["challans"], ["verify_ldc", "gone_module"]])
def test_a_stored_module_this_version_does_not_know_is_refused_by_name(
    session_factory: SessionFactory, clock: Clock, stored: list[str]
) -> None:
    firm = make_firm(session_factory)
    schedule(session_factory, firm, clock)
    with unit_of_work(session_factory) as session:
        session.execute(sa.update(Schedule).values(modules=stored))
    clock.set(FIRST)
    (refused,) = fire(session_factory, clock).fires
    assert refused.outcome == FireOutcome.REFUSED and stored[-1] in (refused.reason or "")


def test_a_fire_already_recorded_elsewhere_rolls_back_its_run(
    session_factory: SessionFactory, clock: Clock
) -> None:
    """The unique (schedule, fire time) backs the row lock up: the loser keeps nothing."""
    firm = make_firm(session_factory)
    made = schedule(session_factory, firm, clock)
    with unit_of_work(session_factory) as session:  # as if another coordinator had won
        session.add(
            ScheduleFire(
                schedule_id=made.id, fire_time=FIRST, outcome=FireOutcome.STARTED, decided_at=FIRST
            )
        )
    clock.set(FIRST)
    assert fire(session_factory, clock).fires == ()
    assert runs(session_factory, firm) == []
    assert view(session_factory, firm, made.id).next_fire_at == FIRST  # left to the winner


def test_years_of_missed_daily_fires_say_the_rule(
    session_factory: SessionFactory, clock: Clock
) -> None:
    firm = make_firm(session_factory)
    schedule(session_factory, firm, clock)
    clock.set(FIRST + 1200 * DAY + timedelta(hours=5))
    (missed,) = fire(session_factory, clock).fires
    assert missed.outcome == FireOutcome.SKIPPED_MISFIRE
    assert (missed.reason or "").endswith("none within the 1 h grace: not run")
    assert "more than 1,000 fires from 01 Dec 2026 02:00 IST" in (missed.reason or "")
    assert runs(session_factory, firm) == []
