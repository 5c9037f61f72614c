"""docker-compose.yml checked without a Docker engine: structure, commands, dependencies, env.

Each SyncBucket service's command is parsed by the real ``syncbucket`` CLI (with ``--help``
appended, so nothing runs): a renamed command or option fails here, not on a user's machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from syncbucket.config import Settings
from syncbucket.portalsim.faults import ENV_PREFIX as SIM_PREFIX
from syncbucket.portalsim.faults import KNOBS, PORTALS
from syncbucket_cli.main import app

COMPOSE = Path(__file__).resolve().parents[3] / "docker-compose.yml"
INFRA = ("postgres", "rabbitmq", "redis")
MONITORING = ("prometheus", "grafana")
APP_IMAGE = "syncbucket:local"
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
EXPECTED_APP = {
    "migrate",
    "portal-sim",
    "coordinator",
    "aggregator",
    "requests",
    "worker-traces",
    "worker-itportal",
}


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    document = yaml.safe_load(COMPOSE.read_text())
    found: dict[str, dict[str, Any]] = document["services"]
    return found


def app_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in services.items() if s.get("image") == APP_IMAGE}


def test_every_process_of_the_stack_is_a_service(services: dict[str, dict[str, Any]]) -> None:
    assert set(app_services(services)) == EXPECTED_APP
    assert set(services) == EXPECTED_APP | set(INFRA) | set(MONITORING)
    for name, service in services.items():
        assert service.get("image") or service.get("build"), name
    assert "8080:8080" in services["coordinator"]["ports"]
    assert services["rabbitmq"]["image"].endswith("-management")


def test_infrastructure_has_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    for name in (*INFRA, "portal-sim", "coordinator"):
        assert services[name]["healthcheck"]["test"], name


def test_dependencies_exist_and_their_conditions_can_be_met(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        for target, rule in (service.get("depends_on") or {}).items():
            assert target in services, f"{name} depends on unknown service {target}"
            condition = rule["condition"]
            assert condition in CONDITIONS, f"{name} -> {target}: {condition}"
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{target} has no healthcheck"
            if condition == "service_completed_successfully":
                assert services[target].get("restart") == "no", f"{target} must run once"


def test_services_start_after_a_successful_migration(services: dict[str, dict[str, Any]]) -> None:
    for name in EXPECTED_APP - {"migrate", "portal-sim"}:
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        for infra in INFRA:
            assert depends[infra] == {"condition": "service_healthy"}, (name, infra)
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_commands_are_ones_the_cli_accepts(services: dict[str, dict[str, Any]]) -> None:
    runner = CliRunner()
    for name, service in app_services(services).items():
        command = service["command"]
        assert isinstance(command, list) and command, name
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, f"{name}: {command}: {result.output}"
    assert services["coordinator"]["command"][:2] == ["serve", "coordinator"]
    assert services["aggregator"]["command"] == ["serve", "aggregator"]
    assert services["requests"]["command"] == ["serve", "requests"]
    assert services["worker-traces"]["command"] == ["worker", "--portal", "traces"]
    assert services["worker-itportal"]["command"] == ["worker", "--portal", "itportal"]


def known_variables() -> set[str]:
    settings = {f"SYNCBUCKET_{field.upper()}" for field in Settings.model_fields}
    knobs = {f"{SIM_PREFIX}{p.upper()}_{k.upper()}" for p in PORTALS for k in KNOBS}
    return settings | knobs


def test_environment_names_only_existing_settings(services: dict[str, dict[str, Any]]) -> None:
    known = known_variables()
    for name, service in app_services(services).items():
        env = service.get("environment") or {}
        assert isinstance(env, dict), f"{name}: use the mapping form for environment"
        for key in env:
            assert key.startswith("SYNCBUCKET_"), f"{name}: {key}"
            assert key in known, f"{name}: {key} is not a setting (typo?)"
        assert {"SYNCBUCKET_DATABASE_URL", "SYNCBUCKET_BROKER_URL"} <= set(env), name


def test_urls_point_at_the_compose_services(services: dict[str, dict[str, Any]]) -> None:
    env = services["coordinator"]["environment"]
    assert "@postgres:5432/" in env["SYNCBUCKET_DATABASE_URL"]
    assert "@rabbitmq:5672/" in env["SYNCBUCKET_BROKER_URL"]
    assert env["SYNCBUCKET_REDIS_URL"].startswith("redis://redis:6379/")
    assert env["SYNCBUCKET_TRACES_BASE_URL"].startswith("http://portal-sim:8090/")
    fields = {
        key.removeprefix("SYNCBUCKET_").lower(): value
        for key, value in env.items()
        if key != "SYNCBUCKET_SECRET_KEY"
    }
    assert Settings(**fields).broker_url == env["SYNCBUCKET_BROKER_URL"]


def test_monitoring_mounts_exist_and_compose_scrape_config_matches_the_local_one(
    services: dict[str, dict[str, Any]],
) -> None:
    root = COMPOSE.parent
    for name in MONITORING:
        for volume in services[name]["volumes"]:
            assert (root / volume.split(":")[0]).exists(), (name, volume)
    local = yaml.safe_load((root / "deploy/prometheus/prometheus.yml").read_text())
    compose = yaml.safe_load((root / "deploy/prometheus/prometheus.compose.yml").read_text())
    assert [job["job_name"] for job in compose["scrape_configs"]] == [
        job["job_name"] for job in local["scrape_configs"]
    ]
    for job in compose["scrape_configs"]:
        for target in job["static_configs"][0]["targets"]:
            host = target.split(":")[0]
            assert host == "localhost" or host in services, (job["job_name"], target)
    assert compose["rule_files"] == local["rule_files"]
