from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from syncbucket.db import migrate
from syncbucket.db.engine import make_engine
from syncbucket.db.records_tables import MODULE_MODELS, RECORD_MODELS, model_for
from syncbucket.db.schema import metadata
from syncbucket.domain import records
from syncbucket.domain.portals import ModuleKey


def test_migrated_sqlite_matches_the_models(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_every_record_class_and_module_has_a_table() -> None:
    record_classes = {
        cls
        for cls in vars(records).values()
        if isinstance(cls, type) and issubclass(cls, records.Record) and cls is not records.Record
    }
    assert set(RECORD_MODELS) == record_classes
    assert set(MODULE_MODELS) == set(ModuleKey)
    assert set(MODULE_MODELS.values()) == set(RECORD_MODELS.values())


@pytest.mark.parametrize("record_type", list(RECORD_MODELS))
def test_record_tables_mirror_record_fields(record_type: type[records.Record]) -> None:
    model = model_for(record_type)
    fields = {f.name for f in dataclasses.fields(record_type)}
    assert model.key_columns == record_type.key_fields
    assert set(model.query_columns) <= fields
    table = metadata.tables[model.__tablename__]
    natural = next(
        c
        for c in table.constraints
        if isinstance(c, sa.UniqueConstraint) and c.name == f"uq_{table.name}_natural_key"
    )
    assert [c.name for c in natural.columns] == ["client_id", *record_type.key_fields]


def test_model_for_unknown_record_type() -> None:
    with pytest.raises(TypeError, match="no records table for Record"):
        model_for(records.Record)


def test_required_indexes_exist() -> None:
    indexes = {
        table.name: {tuple(c.name for c in ix.columns) for ix in table.indexes}
        for table in metadata.sorted_tables
    }
    assert ("portal", "status", "run_id") in indexes["items"]
    assert ("run_id", "status") in indexes["items"]
    assert ("status",) in indexes["runs"] and ("firm_id", "created_at") in indexes["runs"]
    assert ("sent_at",) in indexes["outbox"]


def test_migrations_dir_is_found_and_missing_one_is_explained(tmp_path: Path) -> None:
    assert (migrate.migrations_dir() / "env.py").is_file()
    with pytest.raises(migrate.MigrationsNotFoundError, match="migrations not found"):
        migrate.migrations_dir(tmp_path)


def test_ensure_current_refuses_an_empty_database(tmp_path: Path, engine: sa.Engine) -> None:
    migrate.ensure_current(engine)  # the migrated fixture passes
    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(migrate.SchemaNotCurrentError, match="run `syncbucket db upgrade`"):
        migrate.ensure_current(empty)
    empty.dispose()
