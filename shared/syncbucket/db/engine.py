"""Engines for PostgreSQL (psycopg 3) and SQLite from one URL.

SQLite gets WAL (readers never block the writer), enforced foreign keys, a busy timeout,
and transactions that SQLAlchemy -- not the pysqlite driver -- begins, as
``BEGIN IMMEDIATE`` by default: concurrent writers then queue on the busy timeout instead
of failing with "database is locked" when a deferred reader upgrades to a writer.
SAVEPOINTs work correctly only with this arrangement.
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import event

SQLITE_BUSY_TIMEOUT_MS = 30_000
SqliteBegin = Literal["DEFERRED", "IMMEDIATE"]


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3 (``postgresql+psycopg://``)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def make_engine(
    url: str,
    *,
    sqlite_begin: SqliteBegin = "IMMEDIATE",
    sqlite_foreign_keys: bool = True,
    **kwargs: Any,
) -> sa.Engine:
    """Create an engine for ``url``; extra keyword arguments go to ``create_engine``.

    ``sqlite_foreign_keys=False`` is for migrations only: SQLite's batch mode rebuilds
    tables, which with enforced foreign keys would cascade into their children.
    """
    parsed = sa.make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(parsed, **kwargs)
        _configure_sqlite(engine, sqlite_begin, sqlite_foreign_keys)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(parsed, **kwargs)


def _configure_sqlite(engine: sa.Engine, begin: SqliteBegin, foreign_keys: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql(f"BEGIN {begin}")
