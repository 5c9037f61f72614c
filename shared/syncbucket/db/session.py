"""Sessions and the unit of work: one ``with`` block = one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

SessionFactory = sessionmaker[Session]


def make_session_factory(engine: sa.Engine) -> SessionFactory:
    """Sessions whose objects stay readable after commit (no surprise reloads)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: SessionFactory) -> Iterator[Session]:
    """Commit when the block ends normally, roll back when it raises, always close."""
    with factory() as session, session.begin():
        yield session
