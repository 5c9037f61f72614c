"""Session-wide fixtures: real service URLs and a throwaway PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.support.services import service_url

os.environ.setdefault("SYNCBUCKET_SECRET_KEY", "test-secret-key-that-is-long-enough-0123456789")


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    with service_url("postgres", 5432) as url:
        yield url


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    with service_url("rabbitmq", 5672) as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with service_url("redis", 6379) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty database on the PostgreSQL server, dropped after the session."""
    name = f"syncbucket_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(postgres_server_url).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
