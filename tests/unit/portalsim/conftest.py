from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from syncbucket.portalsim.app import create_app
from syncbucket.portalsim.state import SimulatorState

TAN = "DELA12345B"


@pytest.fixture
def state() -> SimulatorState:
    return SimulatorState(seed=7)


@pytest.fixture
def client(state: SimulatorState) -> Iterator[TestClient]:
    with TestClient(create_app(state)) as test_client:
        yield test_client
