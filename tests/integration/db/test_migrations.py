"""The initial migration on real PostgreSQL and on SQLite: up, down to base, up again."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from syncbucket.db import migrate
from syncbucket.db.engine import make_engine
from syncbucket.db.schema import metadata

pytestmark = pytest.mark.integration


def _named_constraints(engine: sa.Engine) -> set[tuple[str, str]]:
    inspector = sa.inspect(engine)
    found: set[tuple[str, str]] = set()
    for table in inspector.get_table_names():
        found |= {(table, c["name"]) for c in inspector.get_unique_constraints(table) if c["name"]}
        found |= {(table, c["name"]) for c in inspector.get_check_constraints(table) if c["name"]}
        found |= {(table, c["name"]) for c in inspector.get_foreign_keys(table) if c["name"]}
        found |= {(table, i["name"]) for i in inspector.get_indexes(table) if i["name"]}
    return found


def _expected_constraints() -> set[tuple[str, str]]:
    expected: set[tuple[str, str]] = set()
    for table in metadata.sorted_tables:
        names = [c.name for c in table.constraints if not isinstance(c, sa.PrimaryKeyConstraint)]
        names += [index.name for index in table.indexes]
        expected |= {(table.name, str(name)) for name in names}
    return expected


def _assert_matches_models(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
    assert migrate.current_revision(engine) == migrate.head_revision()


def _round_trip(url: str) -> None:
    engine = make_engine(url)
    try:
        migrate.upgrade(url)
        _assert_matches_models(engine)
        migrate.downgrade(url, "base")
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
        assert migrate.current_revision(engine) is None
        migrate.upgrade(url)
        _assert_matches_models(engine)
    finally:
        engine.dispose()


def test_postgres_upgrade_downgrade_upgrade(postgres_url: str) -> None:
    _round_trip(postgres_url)
    engine = make_engine(postgres_url)
    try:
        assert _named_constraints(engine) == _expected_constraints()  # every name as modelled
        columns = {c["name"]: c for c in sa.inspect(engine).get_columns("items")}
        assert str(columns["id"]["type"]) == "BIGINT"
        modules = {c["name"]: c for c in sa.inspect(engine).get_columns("runs")}["modules"]
        assert str(modules["type"]) == "JSONB"
    finally:
        engine.dispose()


def test_sqlite_upgrade_downgrade_upgrade(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'migrate.db'}")


def test_postgres_plain_url_is_normalised(postgres_server_url: str) -> None:
    from tests.support.db import scratch_postgres

    with scratch_postgres(postgres_server_url) as url:
        plain = url.replace("postgresql+psycopg://", "postgresql://")
        migrate.upgrade(plain)
        engine = make_engine(plain)
        try:
            assert engine.dialect.driver == "psycopg"
            assert migrate.current_revision(engine) == migrate.head_revision()
        finally:
            engine.dispose()


def test_alembic_command_line_uses_x_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`alembic -x url=... upgrade head` from the repository root, as operators run it."""
    from alembic.config import main as alembic_main

    repo = Path(migrate.__file__).resolve().parents[3]
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.chdir(repo)
    alembic_main(["-x", f"url={url}", "upgrade", "head"])
    engine = make_engine(url)
    try:
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()
