from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from syncbucket.config import Settings, load_settings
from syncbucket.crypto import CredentialCipher
from syncbucket.db.session import SessionFactory
from syncbucket.pipeline.work import WorkDeps
from syncbucket.portalsim.server import RunningSimulator, start_simulator
from tests.support import db as support_db
from tests.support.db import TEST_KEY
from tests.support.messaging_world import World

# The database fixtures, re-exported for this directory.
sqlite_template = support_db.sqlite_template
sqlite_url = support_db.sqlite_url
engine = support_db.engine
session_factory = support_db.session_factory
cipher = support_db.cipher


@pytest.fixture(scope="session")
def simulator() -> Iterator[RunningSimulator]:
    with start_simulator() as sim:
        yield sim


@pytest.fixture
def sim(simulator: RunningSimulator) -> RunningSimulator:
    simulator.reset()
    return simulator


@pytest.fixture
def settings(sqlite_url: str, sim: RunningSimulator) -> Settings:
    return load_settings(
        database_url=sqlite_url,
        broker_url=None,
        secret_key=TEST_KEY,
        traces_base_url=sim.traces_url,
        itportal_base_url=sim.itportal_url,
        max_attempts=3,
        retry_min_backoff_seconds=0.01,
        retry_max_backoff_seconds=0.02,
        maintenance_max_defer_seconds=60.0,
        item_time_limit_seconds=30.0,
    )


@pytest.fixture
def world(session_factory: SessionFactory, cipher: CredentialCipher) -> World:
    return World.create(session_factory, cipher)


@pytest.fixture
def deps(settings: Settings, session_factory: SessionFactory, cipher: CredentialCipher) -> WorkDeps:
    return WorkDeps(
        settings=settings, sessions=session_factory, cipher=cipher, rng=random.Random(7)
    )
