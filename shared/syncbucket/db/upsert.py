"""``INSERT ... ON CONFLICT`` for the dialect a session is bound to (PostgreSQL or SQLite)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with ``on_conflict_do_nothing`` / ``on_conflict_do_update`` available."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
