"""The observability e2e test's stack and Prometheus: a variant of :mod:`tests.e2e.processes`.

Differences from the shared e2e stack: its own metrics directory and free metrics ports
for every process (nothing collides with another stack on this host), a TRACES pool of
two processes (multi-process metrics), JSON logs at INFO, light portal faults, and a
Prometheus configuration generated from ``deploy/prometheus/prometheus.yml`` with the
same jobs pointed at those ports, scraping every second.
"""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from syncbucket_stack.output import PrefixedWriter
from syncbucket_stack.plan import syncbucket_command
from syncbucket_stack.supervisor import SELF, ProcessSpec, Supervisor
from tests.e2e.conftest import RunningStack, SeededDatabase, launch
from tests.e2e.processes import LockedBuffer, Stack, environ, free_port, stack_env
from tests.support.prometheus import DEPLOY

RABBITMQ_PROMETHEUS_PORT = 15692
JOBS = ("coordinator", "aggregator", "worker-traces", "worker-itportal", "portal-sim")
#: Light faults: a few 5xx on both portals; TRACES answers 429 above 40 requests/s while
#: the workers start at 60/s, so the adaptive limiter slows down after a few 429s.
FAULTS: dict[str, object] = {
    "sim_traces_error_5xx_rate": 0.03,
    "sim_itportal_error_5xx_rate": 0.03,
    "sim_traces_rate_limit_per_second": 40,
    "sim_traces_rate_limit_burst": 5,
}


@dataclass(frozen=True)
class Ports:
    api: int
    sim: int
    metrics: dict[str, int]  # job -> port

    @classmethod
    def pick(cls) -> Ports:
        sim = free_port()
        metrics = {job: free_port() for job in JOBS if job != "portal-sim"}
        return cls(free_port(), sim, {**metrics, "portal-sim": sim})


def stack_settings(
    ports: Ports, metrics_dir: Path, amqp_url: str, redis_url: str, redis_key_prefix: str
) -> dict[str, object]:
    sim_url = f"http://127.0.0.1:{ports.sim}"
    return {
        "broker_url": amqp_url,
        "redis_url": redis_url,
        "redis_key_prefix": redis_key_prefix,
        "api_port": ports.api,
        "portal_sim_port": ports.sim,
        "traces_base_url": f"{sim_url}/traces",
        "itportal_base_url": f"{sim_url}/itportal",
        "traces_rate_per_second": 60,
        "traces_burst": 10,
        "itportal_rate_per_second": 1000,
        "itportal_burst": 100,
        "dispatch_interval_seconds": 0.2,
        "retry_min_backoff_seconds": 0.2,
        "retry_max_backoff_seconds": 1.0,
        "metrics_dir": metrics_dir,
        "coordinator_metrics_port": ports.metrics["coordinator"],
        "aggregator_metrics_port": ports.metrics["aggregator"],
        "traces_worker_metrics_port": ports.metrics["worker-traces"],
        "itportal_worker_metrics_port": ports.metrics["worker-itportal"],
        "log_format": "json",
        "log_level": "INFO",
        **FAULTS,
    }


def specs(env: Mapping[str, str]) -> list[ProcessSpec]:
    command = syncbucket_command()
    args = {
        "portal-sim": ("serve", "portal-sim"),
        "coordinator": ("serve", "coordinator"),
        "aggregator": ("serve", "aggregator"),
        "worker-traces": ("worker", "--portal", "traces", "--processes", "2", "--threads", "4"),
        "worker-itportal": ("worker", "--portal", "itportal", "--processes", "1", "--threads", "8"),
    }
    return [ProcessSpec(name, (*command, *a), dict(env)) for name, a in args.items()]


class ObservedStack(Stack):
    """:class:`Stack` with this module's process specs."""

    def __init__(self, env: Mapping[str, str]) -> None:  # the same fields as Stack's
        self.buffer = LockedBuffer()
        process_specs = specs(env)
        writer = PrefixedWriter(self.buffer, [SELF, *(s.name for s in process_specs)], False)
        self.supervisor = Supervisor(process_specs, writer, grace_seconds=5.0)
        self.pids: dict[str, int] = {}


def start_observed_stack(database: SeededDatabase, settings: Mapping[str, object]) -> RunningStack:
    ports_api = settings["api_port"]
    sim_url = f"http://127.0.0.1:{settings['portal_sim_port']}"
    env = stack_env(environ(), database_url=database.url, **settings)
    return launch(ObservedStack(env), f"http://127.0.0.1:{ports_api}", sim_url)


def rabbitmq_exporter_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", RABBITMQ_PROMETHEUS_PORT), timeout=1):
            return True
    except OSError:
        return False


def prometheus_config(ports: Ports, vhost: str | None) -> dict[str, Any]:
    """deploy/prometheus/prometheus.yml, every job pointed at this stack, 1 s intervals."""
    config: dict[str, Any] = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["rule_files"] = [str(DEPLOY / path) for path in config["rule_files"]]
    rabbit = rabbitmq_exporter_answers()
    jobs = []
    for job in config["scrape_configs"]:
        name = job["job_name"]
        if name in ports.metrics:
            job["static_configs"] = [{"targets": [f"127.0.0.1:{ports.metrics[name]}"]}]
        elif not (name.startswith("rabbitmq") and rabbit):
            continue  # Prometheus itself (its port is chosen later), or no RabbitMQ plugin
        if name == "rabbitmq-queues" and vhost:
            job["params"]["vhost"] = [vhost]
        jobs.append(job)
    config["scrape_configs"] = jobs
    return config


def write_config(path: Path, ports: Ports, vhost: str | None) -> Path:
    path.write_text(yaml.safe_dump(prometheus_config(ports, vhost)))
    return path


def api_get(url: str, path: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}{path}", timeout=10) as response:
        body: dict[str, Any] = json.loads(response.read())
    return body
