"""Database fixtures for tests of the schema, the repositories and the client master.

Migrating is done once per session into a template SQLite file; each test gets a copy
(a file copy costs far less than running the migrations again). Import the fixtures
into a conftest.py to use them.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.crypto import CredentialCipher
from syncbucket.db.engine import make_engine
from syncbucket.db.firms import Firm
from syncbucket.db.migrate import upgrade
from syncbucket.db.session import SessionFactory, make_session_factory

TEST_KEY = "unit-test-key-0123456789-abcdefghijklmnop"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("schema") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    target = tmp_path / "syncbucket.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: sa.Engine) -> SessionFactory:
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: SessionFactory) -> Iterator[Session]:
    """A session in an open transaction, rolled back after the test."""
    with session_factory() as session, session.begin():
        yield session
        session.rollback()


@pytest.fixture
def cipher() -> CredentialCipher:
    return CredentialCipher(TEST_KEY)


@pytest.fixture
def firm(session: Session) -> Firm:
    firm = Firm(name=f"Firm {uuid.uuid4().hex[:8]}")
    session.add(firm)
    session.flush()
    return firm


@contextmanager
def scratch_postgres(server_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the server of ``server_url``, dropped afterwards."""
    name = f"syncbucket_scratch_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
