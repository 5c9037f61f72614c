from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, StatementError

from syncbucket.db.clients import Client
from syncbucket.db.engine import SQLITE_BUSY_TIMEOUT_MS, make_engine, normalise_url
from syncbucket.db.firms import Firm
from syncbucket.db.session import SessionFactory, unit_of_work


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_normalise_url(given: str, expected: str) -> None:
    assert normalise_url(given) == expected


def test_postgres_engine_uses_psycopg3() -> None:
    engine = make_engine("postgresql://u@127.0.0.1:1/db")
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    with engine.connect() as conn:
        pragma = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout")
        }
    engine.dispose()
    assert pragma == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
    }


def test_sqlite_enforces_foreign_keys(session_factory: SessionFactory) -> None:
    with pytest.raises(IntegrityError), unit_of_work(session_factory) as session:
        session.add(Client(firm_id=999, name="Nobody", tan="DELN12345A", pan="ABCPN1234F"))


def test_unit_of_work_commits_or_rolls_back(session_factory: SessionFactory) -> None:
    with unit_of_work(session_factory) as session:
        session.add(Firm(name="Kept"))
    with pytest.raises(RuntimeError), unit_of_work(session_factory) as session:
        session.add(Firm(name="Dropped"))
        session.flush()
        raise RuntimeError("boom")
    with unit_of_work(session_factory) as session:
        assert list(session.scalars(sa.select(Firm.name))) == ["Kept"]


def test_savepoints_work_on_sqlite(session_factory: SessionFactory) -> None:
    with unit_of_work(session_factory) as session:
        session.add(Firm(name="Outer"))
        with pytest.raises(IntegrityError), session.begin_nested():
            session.add(Firm(name="Outer"))  # duplicate name inside the savepoint
        session.add(Firm(name="After"))
    with unit_of_work(session_factory) as session:
        assert sorted(session.scalars(sa.select(Firm.name))) == ["After", "Outer"]


def test_datetimes_come_back_aware_utc_and_naive_ones_are_refused(
    session_factory: SessionFactory,
) -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    with unit_of_work(session_factory) as session:
        session.add(Firm(name="Tz", created_at=datetime(2025, 7, 15, 10, 0, tzinfo=ist)))
    with unit_of_work(session_factory) as session:
        created = session.scalars(sa.select(Firm.created_at)).one()
    assert created == datetime(2025, 7, 15, 4, 30, tzinfo=UTC) and created.tzinfo is not None
    with pytest.raises(StatementError, match="naive datetime"), unit_of_work(session_factory) as s:
        s.add(Firm(name="Naive", created_at=datetime(2025, 7, 15)))


def test_server_default_timestamps_are_aware(session_factory: SessionFactory) -> None:
    with unit_of_work(session_factory) as session:
        session.execute(sa.text("INSERT INTO firms (name) VALUES ('Raw')"))
    with unit_of_work(session_factory) as session:
        created = session.scalars(sa.select(Firm.created_at)).one()
    assert created.tzinfo is not None
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=1)
