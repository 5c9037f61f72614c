"""Dashboard and alerts against a real Prometheus scraping a real stack during a real run.

The real processes (simulator, coordinator, aggregator, both worker pools; TRACES with two
processes) run on a throwaway PostgreSQL database, RabbitMQ vhost and Redis key prefix, with
light faults (some 5xx, 429s from TRACES, a client with a wrong password). The real
``prometheus`` scrapes every service's /metrics (and RabbitMQ's plugin when enabled) every
second, with the rules of deploy/prometheus. After the run:

- every query of every Grafana panel is valid and returns data;
- the counters agree with the run's summary and the simulator's own counts;
- every rule group loads, every rule evaluates cleanly, no alert fires and no critical
  alert is even pending;
- the workers' logs are JSON lines with the item's context and no credential.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import pytest
import redis
import yaml

from syncbucket.clientmaster.demo_clients import demo_client
from syncbucket.domain.portals import Portal
from syncbucket.portalsim.accounts import demo_password
from tests.e2e.api import start_run, wait_terminal
from tests.e2e.conftest import RunningStack, SeededDatabase, seed_database
from tests.e2e.observability_support import (
    Ports,
    api_get,
    stack_settings,
    start_observed_stack,
    write_config,
)
from tests.integration.messaging.conftest import vhost_url  # noqa: F401 - fixture
from tests.support.dashboard import panel_queries
from tests.support.db import scratch_postgres
from tests.support.prometheus import DEPLOY, instant_query, prometheus_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(300)]

CLIENTS = 40
# The stack's Redis keys start with a prefix of this run's own: nothing else's is touched.
REDIS_PREFIX = f"syncbucket-test-{uuid.uuid4().hex[:8]}"
#: Critical alerts allowed to be pending or firing after a healthy run: none.
EXPECTED_CRITICAL: frozenset[str] = frozenset()
CONTEXT = ("run_id", "item_id", "client_tan", "portal", "module", "attempt")


@dataclass(frozen=True)
class Observed:
    running: RunningStack
    prometheus: str
    summary: dict[str, Any]
    log_dir: Path


@pytest.fixture(scope="module")
def observed_db(postgres_server_url: str) -> Iterator[SeededDatabase]:
    with scratch_postgres(postgres_server_url) as url:
        yield seed_database(url, CLIENTS)


@pytest.fixture(scope="module")
def observed_redis(redis_url: str) -> Iterator[str]:
    url = redis_url
    client = redis.Redis.from_url(url)

    def flush() -> None:
        for key in client.scan_iter(match=f"{REDIS_PREFIX}:*"):
            client.delete(key)

    flush()
    try:
        yield url
    finally:
        flush()
        client.close()


@pytest.fixture(scope="module")
def observed(
    observed_db: SeededDatabase,
    vhost_url: str,  # noqa: F811 - the imported fixture
    observed_redis: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Observed]:
    tmp = tmp_path_factory.mktemp("observability")
    ports = Ports.pick()
    settings = stack_settings(ports, tmp / "metrics", vhost_url, observed_redis, REDIS_PREFIX)
    running = start_observed_stack(observed_db, settings)
    try:
        config = write_config(tmp / "prometheus.yml", ports, unquote(urlsplit(vhost_url).path[1:]))
        with prometheus_server(config, tmp) as url:
            summary = run_to_completion(running, observed_db)
            wait_for_scrapes(running, url, summary)
            yield Observed(running, url, summary, tmp)
    finally:
        running.stack.stop()


@pytest.fixture(autouse=True)
def output_on_failure(observed: Observed) -> Iterator[None]:
    """Shown by pytest only when the test fails: the processes' and Prometheus's output."""
    yield
    print(observed.running.stack.output_tail())
    print((observed.log_dir / "prometheus.log").read_text()[-5000:])


def run_to_completion(running: RunningStack, database: SeededDatabase) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {database.token}"}
    with httpx.Client(base_url=f"{running.api_url}/api/v1", headers=headers, timeout=30) as api:
        run_id = start_run(api)
        summary, seconds = wait_terminal(api, running.stack, run_id, timeout=150)
    print(f"observed run of {summary['total_items']} items took {seconds:.1f}s")
    return summary


def scalar(url: str, expr: str) -> float | None:
    answer = instant_query(url, expr)
    result = answer.get("data", {}).get("result", [])  # type: ignore[union-attr]
    return float(result[0]["value"][1]) if result else None


def present(url: str, expr: str) -> bool | None:
    answer = instant_query(url, expr)
    return True if answer.get("data", {}).get("result") else None  # type: ignore[union-attr]


def wait_for_scrapes(running: RunningStack, url: str, summary: dict[str, Any]) -> None:
    """Until Prometheus has scraped the finished run and evaluated the rules on it."""
    done = summary["items_done"]
    checks = {
        "the completed run": "sum(syncbucket_runs_completed_total) >= 1",
        "no active run": "max(syncbucket_runs_active) == 0",
        "every item processed": f"sum(syncbucket_items_processed_total) >= {done}",
        "the recording rules": "sum(syncbucket:items_processed:rate5m) > 0",
        "no item in flight": "sum(syncbucket_dispatcher_inflight_items) == 0",
        "the published event": "sum(syncbucket_events_published_total) >= 1",
    }
    for what, expr in checks.items():
        running.stack.wait_for(f"Prometheus to see {what}", lambda e=expr: present(url, e), 60)


def test_every_dashboard_query_is_valid_and_returns_data(observed: Observed) -> None:
    invalid: dict[str, object] = {}
    empty: list[str] = []
    for query in panel_queries():
        answer = instant_query(observed.prometheus, query.expr)
        if answer.get("status") != "success":
            invalid[query.label] = answer.get("error")
        elif not answer["data"]["result"]:  # type: ignore[index]
            empty.append(f"{query.label}: {query.expr}")
    assert not invalid, invalid
    assert not empty, "panels without data:\n" + "\n".join(empty)


def test_every_target_is_up(observed: Observed) -> None:
    targets = api_get(observed.prometheus, "/api/v1/targets")["data"]["activeTargets"]
    down = {t["labels"]["job"]: t.get("lastError") for t in targets if t["health"] != "up"}
    assert not down
    assert {t["labels"]["job"] for t in targets} >= {
        "coordinator",
        "aggregator",
        "worker-traces",
        "worker-itportal",
        "portal-sim",
    }


def test_the_counters_agree_with_the_run_and_the_portals(observed: Observed) -> None:
    url, counts = observed.prometheus, observed.summary["counts"]
    for outcome in ("succeeded", "failed"):
        expr = f'sum(syncbucket_items_processed_total{{outcome="{outcome}"}})'
        assert scalar(url, expr) == counts[outcome], outcome
    assert counts["failed"] > 0  # the client with a wrong password
    total = observed.summary["total_items"]
    assert scalar(url, "sum(syncbucket_items_released_total)") == total
    assert scalar(url, "sum(syncbucket_outcomes_applied_total)") == total
    assert scalar(url, 'sum(syncbucket_runs_completed_total{status="completed_with_errors"})') == 1
    assert scalar(url, 'sum(syncbucket_events_published_total{type="syncbucket.run.completed"})')
    stats = httpx.get(f"{observed.running.sim_url}/admin/stats").json()["portals"]
    for portal in (p.value for p in Portal):
        sent = f'sum(syncbucket_portal_requests_total{{portal="{portal}"}})'
        assert scalar(url, sent) == stats[portal]["requests"]["total"], portal
    rejected = 'sum(syncbucket_portal_requests_total{portal="traces",status_class="429"})'
    assert scalar(url, rejected) == stats["traces"]["rate_limited"] > 0
    assert scalar(url, 'sum(syncbucket_ratelimit_slowdowns_total{reason="429"})')
    assert scalar(url, 'sum(syncbucket_ratelimit_wait_seconds_count{portal="traces"})')
    assert scalar(url, 'sum(dramatiq_messages_total{queue_name="portal.traces"})')


def rule_groups() -> set[str]:
    files = sorted((DEPLOY / "rules").glob("*.yml"))
    return {g["name"] for f in files for g in yaml.safe_load(f.read_text())["groups"]}


def test_alert_rules_load_evaluate_and_stay_quiet(observed: Observed) -> None:
    groups = api_get(observed.prometheus, "/api/v1/rules")["data"]["groups"]
    assert {g["name"] for g in groups} == rule_groups()
    broken = {
        rule["name"]: rule.get("lastError")
        for group in groups
        for rule in group["rules"]
        if rule["health"] != "ok"
    }
    assert not broken
    alerts = api_get(observed.prometheus, "/api/v1/alerts")["data"]["alerts"]
    firing = [a["labels"] for a in alerts if a["state"] == "firing"]
    assert not firing
    critical = [
        a["labels"]
        for a in alerts
        if a["labels"].get("severity") == "critical"
        and a["labels"]["alertname"] not in EXPECTED_CRITICAL
    ]
    assert not critical


def worker_events(output: str) -> list[dict[str, Any]]:
    events = []
    for line in output.splitlines():
        name, _, text = line.partition(" | ")
        if name.strip().startswith("worker-") and text.startswith("{"):
            events.append(json.loads(text))
    return events


def test_worker_logs_are_json_with_context_and_no_credentials(observed: Observed) -> None:
    output = observed.running.stack.buffer.text()
    events = worker_events(output)
    items = [e for e in events if "item_id" in e and e.get("logger", "").startswith("syncbucket")]
    assert items, "no item log events from the workers"
    assert all(set(CONTEXT) <= set(e) for e in items), items[:3]
    assert any(e.get("error_code") == "invalid_credentials" for e in items)
    for index in range(CLIENTS):
        tan = demo_client(index).tan
        for portal in Portal:
            assert demo_password(portal, tan) not in output
