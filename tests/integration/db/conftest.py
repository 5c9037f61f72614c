from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from syncbucket.db.engine import make_engine
from syncbucket.db.migrate import upgrade
from syncbucket.db.session import SessionFactory, make_session_factory
from tests.support.db import cipher, scratch_postgres  # noqa: F401 - fixture


@pytest.fixture(scope="module")
def pg_url(postgres_server_url: str) -> Iterator[str]:
    """A migrated PostgreSQL database of its own for each test module."""
    with scratch_postgres(postgres_server_url) as url:
        upgrade(url)
        yield url


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_sessions(pg_engine: sa.Engine) -> SessionFactory:
    return make_session_factory(pg_engine)
