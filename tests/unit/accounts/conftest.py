"""Fixtures for the accounts package: a migrated SQLite copy, firms, users, cheap hashes.

argon2 with argon2-cffi's defaults costs ~0.1-0.2 s a hash, so every module except
``test_passwords`` (which tests the real parameters) asks for ``fast_hashes``: the same
code paths with the cheapest argon2id parameters.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from syncbucket.accounts import passwords
from syncbucket.accounts.users import create_user
from syncbucket.db.firms import Firm
from syncbucket.db.users import User
from syncbucket.domain.roles import Role
from tests.support.db import (  # noqa: F401 - fixtures
    cipher,
    engine,
    firm,
    session,
    session_factory,
    sqlite_template,
    sqlite_url,
)

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
GOOD_PASSWORD = "correct horse battery staple"
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

MakeUser = Callable[..., User]


@pytest.fixture
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> PasswordHasher:
    monkeypatch.setattr(passwords, "_hasher", CHEAP)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", CHEAP.hash(uuid.uuid4().hex))
    return CHEAP


@pytest.fixture
def other_firm(session: Session) -> Firm:  # noqa: F811 - the imported fixture
    found = Firm(name=f"Other {uuid.uuid4().hex[:8]}")
    session.add(found)
    session.flush()
    return found


@pytest.fixture
def make_user(
    session: Session,  # noqa: F811 - the imported fixture
    firm: Firm,  # noqa: F811 - the imported fixture
) -> MakeUser:
    """A user of ``firm`` (or ``in_firm``) with a known password, flushed."""

    def make(
        email: str = "asha@example.com",
        role: Role = Role.OPERATOR,
        password: str = GOOD_PASSWORD,
        in_firm: Firm | None = None,
    ) -> User:
        return create_user(session, (in_firm or firm).id, email, role, password).user

    return make
