from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from syncbucket.dispatch.fairness import RunBacklog, plan_releases, share_window

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def run(
    run_id: int, pending: int, remaining: int | None = None, priority: int = 0, firm_id: int = 1
) -> RunBacklog:
    return RunBacklog(
        run_id=run_id,
        firm_id=firm_id,
        priority=priority,
        created_at=T0 + timedelta(seconds=run_id),
        pending=pending,
        remaining=pending if remaining is None else remaining,
    )


def test_small_run_started_during_big_run_gets_released_at_once() -> None:
    big, small = run(1, 60_000), run(2, 6)
    releases = {r.run_id: r.count for r in share_window("traces", 20, [big, small])}
    assert releases == {2: 6, 1: 14}


def test_priority_beats_size() -> None:
    releases = share_window("traces", 1, [run(1, 5, priority=0), run(2, 500, priority=9)])
    assert [(r.run_id, r.count) for r in releases] == [(2, 1)]


def test_window_full_releases_nothing() -> None:
    plan = plan_releases({"traces": 10}, {"traces": 10}, {"traces": [run(1, 5)]})
    assert plan == []


def test_equal_runs_share_evenly() -> None:
    releases = share_window("itportal", 9, [run(1, 100), run(2, 100), run(3, 100)])
    assert sorted(r.count for r in releases) == [3, 3, 3]


backlogs = st.lists(st.tuples(st.integers(0, 50), st.integers(0, 3)), min_size=0, max_size=8).map(
    lambda rows: [run(i + 1, p, p + 3, prio) for i, (p, prio) in enumerate(rows)]
)


@given(backlogs, st.integers(0, 200), st.integers(0, 200))
def test_never_exceeds_window_or_pending(runs: list[RunBacklog], cap: int, busy: int) -> None:
    plan = plan_releases({"traces": cap}, {"traces": busy}, {"traces": runs})
    pending = {r.run_id: r.pending for r in runs}
    assert sum(r.count for r in plan) <= max(0, cap - busy)
    assert all(0 < r.count <= pending[r.run_id] for r in plan)


@given(backlogs, st.integers(0, 200))
def test_window_is_used_fully_when_there_is_work(runs: list[RunBacklog], cap: int) -> None:
    plan = plan_releases({"traces": cap}, {}, {"traces": runs})
    assert sum(r.count for r in plan) == min(cap, sum(r.pending for r in runs))


@given(backlogs, st.integers(1, 200))
def test_round_robin_no_run_gets_two_more_than_a_later_one(
    runs: list[RunBacklog], cap: int
) -> None:
    granted = {r.run_id: r.count for r in share_window("traces", cap, runs)}
    for a in runs:
        for b in runs:
            starved = granted.get(b.run_id, 0) < b.pending
            if starved and a.pending > 0:
                assert granted.get(a.run_id, 0) <= granted.get(b.run_id, 0) + 1


def test_a_firm_with_many_high_priority_runs_gets_only_its_share() -> None:
    busy = [run(i, 100, priority=10, firm_id=1) for i in range(1, 11)]
    waiting = run(11, 100, priority=0, firm_id=2)
    granted = {r.run_id: r.count for r in share_window("traces", 10, [*busy, waiting])}
    assert granted[11] == 5
    assert sum(n for run_id, n in granted.items() if run_id != 11) == 5


def test_a_firm_takes_what_another_firm_cannot_use() -> None:
    granted = {
        r.run_id: r.count for r in share_window("traces", 10, [run(1, 100), run(2, 2, firm_id=2)])
    }
    assert granted == {1: 8, 2: 2}


def test_within_a_firm_priority_then_size_go_first() -> None:
    runs = [run(1, 50, priority=0), run(2, 50, priority=10), run(3, 1, priority=0, firm_id=2)]
    assert [(r.run_id, r.count) for r in share_window("traces", 2, runs)] == [(2, 1), (3, 1)]


firm_backlogs = st.lists(
    st.tuples(st.integers(0, 50), st.integers(0, 10), st.integers(1, 4)), max_size=12
).map(lambda rows: [run(i + 1, p, p + 3, prio, firm) for i, (p, prio, firm) in enumerate(rows)])


@given(firm_backlogs, st.integers(0, 300))
def test_firms_get_even_shares_whatever_their_runs_and_priorities(
    runs: list[RunBacklog], cap: int
) -> None:
    plan = share_window("traces", cap, runs)
    by_run = {r.run_id: r.count for r in plan}
    firms = {r.firm_id for r in runs}
    granted = {f: sum(by_run.get(r.run_id, 0) for r in runs if r.firm_id == f) for f in firms}
    pending = {f: sum(r.pending for r in runs if r.firm_id == f) for f in firms}
    assert sum(granted.values()) == min(cap, sum(pending.values()))
    for a in firms:
        for b in firms:
            if granted[b] < pending[b]:  # b still waits: a got at most one more turn
                assert granted[a] <= granted[b] + 1


@given(firm_backlogs, st.integers(1, 300))
def test_runs_of_one_firm_share_its_turns_round_robin(runs: list[RunBacklog], cap: int) -> None:
    granted = {r.run_id: r.count for r in share_window("traces", cap, runs)}
    for a in runs:
        for b in runs:
            starved = granted.get(b.run_id, 0) < b.pending
            if a.firm_id == b.firm_id and starved and a.pending > 0:
                assert granted.get(a.run_id, 0) <= granted.get(b.run_id, 0) + 1
