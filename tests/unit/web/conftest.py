import uuid

import pytest
from argon2 import PasswordHasher

from syncbucket.accounts import passwords
from tests.support.db import engine, sqlite_template, sqlite_url  # noqa: F401 - fixtures
from tests.unit.web.support import clock, world  # noqa: F401 - fixtures

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same argon2id code paths at the cheapest cost (the real ones: tests/unit/accounts)."""
    monkeypatch.setattr(passwords, "_hasher", CHEAP)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", CHEAP.hash(uuid.uuid4().hex))
