"""Two of every service on real processes, and the leading coordinator killed mid-run.

2 coordinators + 2 aggregators + 2 request consumers + both worker pools, one database,
one private vhost. A run is started by a signed sync request; once a fifth of its items
are done the leading coordinator is killed with SIGKILL while a schedule falls due. The
survivor takes the lease and the run completes: exactly one ``run.completed``, every item
with exactly one outcome and never re-released, and the schedule's fire makes exactly
one run (docs/architecture.md §18, §19, §20).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
import sqlalchemy as sa

from syncbucket.clientmaster.demo_clients import demo_client
from syncbucket.crypto import CredentialCipher
from syncbucket.db.base import utcnow
from syncbucket.db.engine import make_engine
from syncbucket.db.items import Item
from syncbucket.db.outcomes import Outcome
from syncbucket.db.runs import Run
from syncbucket.db.schedules import Schedule, ScheduleFire
from syncbucket.db.session import make_session_factory, unit_of_work
from syncbucket.intake import integration_secrets
from syncbucket.intake.publisher import RequestClient, build_request
from tests.e2e.conftest import seed_database
from tests.e2e.processes import Stack, answers, environ, free_port, stack_env
from tests.e2e.rabbit import EventTap
from tests.support.db import scratch_postgres
from tests.support.services import private_vhost

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(420)]

CLIENTS = 120
LEASE_SECONDS = 2.0
MODULES = ["verify_ldc", "fetch_challans"]


@dataclass
class Proc:
    name: str
    process: subprocess.Popen[bytes]
    log: IO[bytes]
    url: str | None = None

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-4000:]


class Replicas:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs, self.procs = env, logs, []  # type: ignore[var-annotated]

    def start(self, name: str, module: str, *args: str, **settings: object) -> Proc:
        env = {**self.env, **{f"SYNCBUCKET_{k.upper()}": str(v) for k, v in settings.items()}}
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", module, *args], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        proc = Proc(name, process, log)
        self.procs.append(proc)
        return proc

    def coordinator(self, name: str) -> Proc:
        port = free_port()
        proc = self.start(
            name,
            "syncbucket_coordinator",
            "--port",
            str(port),
            coordinator_metrics_port=free_port(),
        )
        proc.url = f"http://127.0.0.1:{port}"
        return proc

    def check(self) -> None:
        for proc in self.procs:
            if not proc.alive() and proc.process.returncode != -9:
                raise AssertionError(f"{proc.name} exited {proc.process.returncode}: {proc.tail()}")

    def stop(self) -> None:
        for proc in self.procs:
            if proc.alive():
                proc.process.terminate()
        for proc in self.procs:
            try:
                proc.process.wait(15)
            except subprocess.TimeoutExpired:
                proc.process.kill()
                proc.process.wait(5)
            proc.log.close()


def wait(what: str, probe: Callable[[], Any], timeout: float, check: Callable[[], None]) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        check()
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.1)


def health(proc: Proc) -> dict[str, Any] | None:
    try:
        body: dict[str, Any] = httpx.get(f"{proc.url}/healthz", timeout=1).json()
        return body
    except (httpx.HTTPError, ValueError):
        return None


@pytest.fixture
def world(postgres_server_url: str, amqp_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    with scratch_postgres(postgres_server_url) as db_url, private_vhost(amqp_url) as vhost:
        yield {"db_url": db_url, "vhost": vhost, "logs": tmp_path}


def test_two_of_everything_and_the_leader_killed_mid_run(world: dict[str, Any]) -> None:
    db_url, vhost, logs = world["db_url"], world["vhost"], world["logs"]
    seeded = seed_database(db_url, CLIENTS)
    env = environ()
    engine = make_engine(db_url)
    sessions = make_session_factory(engine)
    with unit_of_work(sessions) as session:
        secret = integration_secrets.issue(
            session,
            CredentialCipher(env["SYNCBUCKET_SECRET_KEY"]),
            seeded.firm_id,
            utcnow(),
            grace=timedelta(0),
        )
    sim_port = free_port()
    sim_url = f"http://127.0.0.1:{sim_port}"
    base = stack_env(
        env,
        database_url=db_url,
        broker_url=vhost,
        portal_sim_port=sim_port,
        traces_base_url=f"{sim_url}/traces",
        itportal_base_url=f"{sim_url}/itportal",
        traces_rate_per_second=25,
        itportal_rate_per_second=25,
        dispatch_interval_seconds=0.2,
        traces_dispatch_window=16,
        itportal_dispatch_window=16,
        leader_lease_seconds=LEASE_SECONDS,
        scheduler_interval_seconds=0.5,
        log_format="human",
        log_level="WARNING",
        traces_worker_metrics_port=free_port(),
        itportal_worker_metrics_port=free_port(),
        metrics_dir=str(logs / "metrics-pools"),
    )
    pools = Stack(
        base, threads=4, only=frozenset({"portal-sim", "worker-traces", "worker-itportal"})
    )
    replicas = Replicas(base, logs)
    pools.start()
    try:
        pools.wait_for("the simulator", lambda: answers(f"{sim_url}/admin/health"), 60)
        coordinators = [
            replicas.coordinator("coordinator-a"),
            replicas.coordinator("coordinator-b"),
        ]
        for n in "ab":
            replicas.start(
                f"aggregator-{n}",
                "syncbucket_aggregator",
                aggregator_metrics_port=free_port(),
                metrics_dir=str(logs / f"metrics-aggregator-{n}"),
            )
            replicas.start(
                f"requests-{n}", "syncbucket_requests", requests_metrics_port=free_port()
            )

        def check() -> None:
            replicas.check()
            pools.check_alive()

        for proc in coordinators:
            wait(
                f"{proc.name} healthy",
                lambda p=proc: (health(p) or {}).get("status") == "ok",
                60,
                check,
            )  # type: ignore[misc]
        leaders = [p for p in coordinators if (health(p) or {})["leader"]["leading"]]
        assert len(leaders) == 1, [health(p) for p in coordinators]
        (leader,) = leaders
        (survivor,) = [p for p in coordinators if p is not leader]

        tap = EventTap(vhost)
        data = {"clients": "all", "modules": MODULES, "requested_by": "e2e"}
        request = build_request(firm_id=seeded.firm_id, data=data, secret=secret, source="/e2e")
        with RequestClient(vhost) as client:
            client.send(request)
            answer = client.answer(request["id"], timeout=60)
        assert answer["type"] == "syncbucket.sync.accepted", answer
        run_id = answer["data"]["run_id"]
        total = answer["data"]["total_items"]
        assert total == CLIENTS * len(MODULES)

        api = httpx.Client(
            base_url=f"{survivor.url}/api/v1",
            headers={"Authorization": f"Bearer {seeded.token}"},
            timeout=30,
        )

        def done() -> int:
            return int(api.get(f"/runs/{run_id}").json()["items_done"])

        wait("a fifth of the run", lambda: done() >= total // 5, 180, check)
        assert done() < total, "the run ended before the leader could be killed"
        schedule = api.post(
            "/schedules",
            json={
                "name": "during-failover",
                "cron": "0 3 * * *",
                "clients": {"filter": {"search": demo_client(0).tan}},
                "modules": ["verify_ldc"],
            },
        )
        assert schedule.status_code == 201, schedule.text
        schedule_id = schedule.json()["id"]
        fire_time = utcnow().replace(microsecond=0) + timedelta(seconds=1)
        with unit_of_work(sessions) as session:  # due a second from now: mid fail-over
            session.execute(
                sa.update(Schedule).where(Schedule.id == schedule_id).values(next_fire_at=fire_time)
            )
        leader.process.kill()  # SIGKILL: no release, the lease must run out
        leader.process.wait(10)
        killed_at = time.monotonic()
        wait(
            "the survivor to lead", lambda: (health(survivor) or {})["leader"]["leading"], 30, check
        )
        failover = time.monotonic() - killed_at
        print(f"E2E fail-over: survivor led {failover:.2f}s after kill -9 (lease {LEASE_SECONDS}s)")

        final = wait(
            "the run to complete",
            lambda: (r := api.get(f"/runs/{run_id}").json())["completed_at"] and r,
            240,
            check,
        )
        assert final["items_done"] == total
        completed = wait(
            "run.completed", lambda: tap.of_type("syncbucket.run.completed", run_id), 30, check
        )
        time.sleep(3)  # two aggregators' relays and two consumers' relays had their chance
        assert len(tap.of_type("syncbucket.run.completed", run_id)) == 1
        assert completed[0]["data"]["counts"] == final["counts"]
        assert len(tap.of_type("syncbucket.run.started", run_id)) == 1

        with sessions() as session:
            outcomes = session.execute(
                sa.select(Outcome.item_id, sa.func.count())
                .where(Outcome.run_id == run_id)
                .group_by(Outcome.item_id)
            ).all()
            releases = session.scalar(
                sa.select(sa.func.max(Item.releases)).where(Item.run_id == run_id)
            )
        assert len(outcomes) == total and all(count == 1 for _, count in outcomes)
        assert releases == 0  # no item went out twice: nothing was lost with the leader

        def fired() -> list[Any]:
            with sessions() as session:
                return list(
                    session.execute(
                        sa.select(
                            ScheduleFire.outcome, ScheduleFire.run_id, ScheduleFire.fire_time
                        ).where(ScheduleFire.schedule_id == schedule_id)
                    ).all()
                )

        (fire,) = wait("the schedule's fire", fired, 60, check)
        assert fire.outcome == "started" and fire.fire_time == fire_time
        with sessions() as session:
            scheduled = session.scalars(
                sa.select(Run.id).where(Run.source == "schedule", Run.firm_id == seeded.firm_id)
            ).all()
        assert scheduled == [fire.run_id]
        tap.close()
        api.close()
    except BaseException:
        for proc in replicas.procs:
            print(f"---- {proc.name} ----\n{proc.tail()}")
        print(pools.output_tail())
        raise
    finally:
        replicas.stop()
        pools.stop()
        engine.dispose()
