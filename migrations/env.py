"""Alembic environment: SyncBucket's metadata, and the URL from ``-x url=`` or settings.

Precedence of the URL: ``alembic -x url=...``, then ``Config.attributes["url"]`` (set by
:func:`syncbucket.db.migrate.upgrade`), then ``SYNCBUCKET_DATABASE_URL``. On SQLite,
migrations run in batch mode with foreign keys off (table rebuilds would otherwise
cascade), and a ``foreign_key_check`` must come back clean before the commit.
"""

from __future__ import annotations

from logging.config import fileConfig

import sqlalchemy as sa
from alembic import context
from sqlalchemy.pool import NullPool

from syncbucket.config import load_settings
from syncbucket.db.engine import make_engine, normalise_url
from syncbucket.db.schema import metadata

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    given = context.get_x_argument(as_dictionary=True).get("url") or config.attributes.get("url")
    return normalise_url(str(given) if given else load_settings().database_url)


def run_migrations_offline() -> None:
    url = database_url()
    context.configure(
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(database_url(), poolclass=NullPool, sqlite_foreign_keys=False)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=sqlite,
            transactional_ddl=True,  # true of SQLite too, since make_engine emits BEGIN
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                _check_foreign_keys(connection)
    engine.dispose()


def _check_foreign_keys(connection: sa.Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"migration left rows with dangling foreign keys: {broken[:5]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
