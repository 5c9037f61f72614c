"""Where the real services for integration tests come from (docs/architecture.md §13).

A URL in the environment wins; otherwise, with a Docker engine, testcontainers starts one;
otherwise the test fails under CI=true and skips elsewhere, saying what to start.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import pytest

ENV = {
    "postgres": "SYNCBUCKET_TEST_POSTGRES_URL",
    "rabbitmq": "SYNCBUCKET_TEST_AMQP_URL",
    "redis": "SYNCBUCKET_TEST_REDIS_URL",
}
HINT = {
    "postgres": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "rabbitmq": "rabbitmq-server -detached",
    "redis": "redis-server --daemonize yes --port 6379",
}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(what: str, why: str) -> None:
    message = f"{what} is not available ({why}); set {ENV[what]} or start it: {HINT[what]}"
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def docker_engine_available() -> bool:
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env().ping()
    except Exception:
        return False
    return True


@contextmanager
def service_url(what: str, default_port: int) -> Iterator[str]:
    url = os.environ.get(ENV[what])
    if url:
        if not reachable(url, default_port):
            unavailable(what, f"nothing answers at {urlsplit(url).netloc}")
        yield url
        return
    if docker_engine_available():
        with _container(what) as started:
            yield started
        return
    unavailable(what, f"{ENV[what]} is unset and no Docker engine runs")


@contextmanager
def _container(what: str) -> Iterator[str]:
    if what == "postgres":
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver="psycopg") as pg:
            yield pg.get_connection_url()
    elif what == "rabbitmq":
        from testcontainers.rabbitmq import RabbitMqContainer

        with RabbitMqContainer("rabbitmq:3.13-management") as mq:
            params = mq.get_connection_params()
            yield f"amqp://guest:guest@{params.host}:{params.port}/"
    else:
        from testcontainers.redis import RedisContainer

        with RedisContainer("redis:7-alpine") as rd:
            yield f"redis://{rd.get_container_host_ip()}:{rd.get_exposed_port(6379)}/0"


@contextmanager
def private_vhost(amqp_url: str) -> Iterator[str]:
    """A throwaway vhost on the server of ``amqp_url``, deleted afterwards.

    Made with ``rabbitmqctl`` when the server is local and the tool at hand; otherwise
    ``amqp_url`` itself (a remote or containerised broker the tests may not manage).
    """
    parts = urlsplit(amqp_url)
    tool = shutil.which("rabbitmqctl")
    if tool is None or parts.hostname not in ("127.0.0.1", "localhost"):
        yield amqp_url
        return
    vhost = f"syncbucket-test-{uuid.uuid4().hex[:8]}"
    user = unquote(parts.username or "guest")
    try:
        _ctl(tool, "add_vhost", vhost)
        _ctl(tool, "set_permissions", "-p", vhost, user, ".*", ".*", ".*")
    except (OSError, subprocess.SubprocessError):
        yield amqp_url  # not allowed to manage vhosts here: fall back
        return
    try:
        yield urlunsplit(parts._replace(path="/" + quote(vhost, safe="")))
    finally:
        _ctl(tool, "delete_vhost", vhost)


def _ctl(tool: str, *args: str) -> None:
    subprocess.run([tool, *args], check=True, capture_output=True, timeout=60)
