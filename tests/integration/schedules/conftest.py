from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from syncbucket.db.engine import make_engine
from syncbucket.db.migrate import upgrade
from syncbucket.db.session import SessionFactory, make_session_factory
from tests.support.db import scratch_postgres


@pytest.fixture(scope="module")
def pg_engine(postgres_server_url: str) -> Iterator[sa.Engine]:
    """A migrated PostgreSQL database of its own for the module, pooled for threads."""
    with scratch_postgres(postgres_server_url) as url:
        upgrade(url)
        engine = make_engine(url, pool_size=10)
        yield engine
        engine.dispose()


@pytest.fixture
def pg_sessions(pg_engine: sa.Engine) -> SessionFactory:
    return make_session_factory(pg_engine)
