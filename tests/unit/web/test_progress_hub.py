"""The progress hub computes a watched run once per tick, whatever the number of watchers."""

from __future__ import annotations

import asyncio
import time

import pytest
import sqlalchemy as sa

from syncbucket.db.runs import Run
from syncbucket.db.session import unit_of_work
from syncbucket.domain.portals import ModuleKey
from syncbucket.pipeline.errors import RunNotFound
from syncbucket.pipeline.requests import RunRequest
from syncbucket.pipeline.runs import cancel_run, create_run
from syncbucket_coordinator.web.progress import Frame, Progress, ProgressHub
from tests.unit.coordinator.outcomes import finish_items
from tests.unit.web.support import World

TICK = 0.05


def hub_for(world: World) -> ProgressHub:
    def render(progress: Progress) -> str:
        return f"<p>{progress.summary.items_done}/{progress.summary.total_items}</p>"

    return ProgressHub(world.sessions, render, world.clock, TICK)


def new_run(world: World) -> int:
    with unit_of_work(world.sessions) as session:
        request = RunRequest(firm_id=world.a.id, modules=[ModuleKey.VERIFY_LDC])
        return create_run(session, request, now=world.clock()).run_id


async def watch(hub: ProgressHub, firm_id: int, run_id: int, seconds: float) -> list[Frame]:
    seen: list[Frame] = []

    async def consume() -> None:
        async for frame in hub.frames(firm_id, run_id):
            seen.append(frame)

    task = asyncio.create_task(consume())
    await asyncio.sleep(seconds)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return seen


def computations_with(world: World, watchers: int, seconds: float = 0.6) -> tuple[int, int]:
    hub, run_id = hub_for(world), new_run(world)

    async def main() -> list[list[Frame]]:
        return await asyncio.gather(
            *(watch(hub, world.a.id, run_id, seconds) for _ in range(watchers))
        )

    frames = asyncio.run(main())
    assert all(frames), "every watcher got at least the first frame"
    assert hub.watchers() == 0  # cancelled watchers unregister
    return hub.computations, sum(len(f) for f in frames)


def test_fifty_watchers_cost_what_one_costs(world: World) -> None:
    one, _ = computations_with(world, 1)
    fifty, delivered = computations_with(world, 50)
    ticks = 0.6 / TICK
    assert one <= ticks + 2 and fifty <= ticks + 2, (one, fifty)
    assert delivered >= 50  # each watcher had its own copy


def test_pollers_within_a_tick_share_one_computation(world: World) -> None:
    hub, run_id = hub_for(world), new_run(world)
    first = hub.current(world.a.id, run_id)
    for _ in range(20):
        assert hub.current(world.a.id, run_id) is first
    assert hub.computations == 1
    time.sleep(TICK * 1.5)
    assert hub.current(world.a.id, run_id).version == first.version + 1
    assert hub.current(world.a.id, run_id, max_age=0).version == first.version + 2


def test_a_stream_ends_with_the_finished_frame(world: World) -> None:
    hub, run_id = hub_for(world), new_run(world)

    async def main() -> list[Frame]:
        collected: list[Frame] = []

        async def consume() -> None:
            async for frame in hub.frames(world.a.id, run_id):
                collected.append(frame)

        task = asyncio.create_task(consume())
        await asyncio.sleep(TICK * 3)
        await asyncio.to_thread(finish_items, world.sessions, run_id, lambda item: False)
        await asyncio.wait_for(task, timeout=5)
        return collected

    frames = asyncio.run(main())
    assert frames[0].progress.finished is False
    assert frames[-1].progress.finished is True
    assert frames[-1].progress.summary.status == "completed"
    assert frames[-1].html == "<p>4/4</p>"
    versions = [frame.version for frame in frames]
    assert versions == sorted(set(versions))  # no frame twice


def test_another_firms_run_is_not_found_and_close_ends_streams(world: World) -> None:
    hub, run_id = hub_for(world), new_run(world)
    with pytest.raises(RunNotFound):
        hub.current(world.b.id, run_id)

    async def main() -> list[Frame]:
        seen: list[Frame] = []

        async def consume() -> None:
            async for frame in hub.frames(world.a.id, run_id):
                seen.append(frame)

        task = asyncio.create_task(consume())
        await asyncio.sleep(TICK * 2)
        await hub.close()
        await asyncio.wait_for(task, timeout=5)  # the stream ended by itself
        return seen

    assert len(asyncio.run(main())) >= 1


def test_rate_and_eta_come_from_recent_progress(world: World) -> None:
    hub, run_id = hub_for(world), new_run(world)
    fake = [0.0]
    hub._monotonic = lambda: fake[0]  # the hub's own clock, advanced by hand
    first = hub.current(world.a.id, run_id)
    assert first.progress.items_per_second is None and first.progress.eta_seconds is None
    finish_items(world.sessions, run_id, lambda item: False, only=lambda item: item.id % 2 == 0)
    fake[0] = 4.0
    later = hub.current(world.a.id, run_id).progress
    assert later.items_per_second == pytest.approx(2 / 4.0)
    assert later.eta_seconds == pytest.approx(2 / 0.5)
    with unit_of_work(world.sessions) as session:
        cancel_run(session, world.a.id, run_id, world.clock())
    fake[0] = 8.0
    assert hub.current(world.a.id, run_id).progress.finished


def test_unknown_runs_leave_nothing_behind_and_a_deleted_run_ends_its_streams(
    world: World,
) -> None:
    hub, run_id = hub_for(world), new_run(world)
    for missing in range(900_000, 900_200):
        with pytest.raises(RunNotFound):
            hub.current(world.a.id, missing)
    assert len(hub._computing) == 0 and len(hub._cache) == 0

    async def main() -> list[Frame]:
        seen: list[Frame] = []

        async def consume() -> None:
            async for frame in hub.frames(world.a.id, run_id):
                seen.append(frame)

        task = asyncio.create_task(consume())
        await asyncio.sleep(TICK * 2)
        with unit_of_work(world.sessions) as session:
            session.execute(sa.delete(Run).where(Run.id == run_id))  # an operator's hand
        await asyncio.wait_for(task, timeout=5)
        return seen

    assert len(asyncio.run(main())) >= 1
    assert hub.watchers() == 0
