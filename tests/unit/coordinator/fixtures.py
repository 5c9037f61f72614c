"""Fixtures: a coordinator on a migrated SQLite copy, a fake publisher, two firms."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from syncbucket.clientmaster.firms import create_firm
from syncbucket.config import Settings, load_settings
from syncbucket.contracts.messages import WorkMessage
from syncbucket.db.clients import Client, ClientCredential
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket_coordinator.app import create_app
from syncbucket_coordinator.container import Coordinator, bootstrap


class FakePublisher:
    """A WorkPublisher that records what it was given (or fails when told to)."""

    def __init__(self) -> None:
        self.published: list[WorkMessage] = []
        self.fail_with: Exception | None = None

    def publish(self, messages: Sequence[WorkMessage]) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.published.extend(messages)


@dataclass(frozen=True)
class Tenant:
    id: int
    token: str
    client_ids: tuple[int, ...]
    tans: tuple[str, ...]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    return load_settings(database_url=sqlite_url, dispatch_interval_seconds=0.05)


@pytest.fixture
def coordinator(
    settings: Settings, engine: sa.Engine, publisher: FakePublisher
) -> Iterator[Coordinator]:
    root = bootstrap(settings, engine=engine, publisher=publisher)
    yield root
    root.close()


@pytest.fixture
def sessions(coordinator: Coordinator) -> SessionFactory:
    return coordinator.sessions


@pytest.fixture
def api(coordinator: Coordinator) -> Iterator[TestClient]:
    with TestClient(create_app(coordinator)) as client:
        yield client


def make_tenant(sessions: SessionFactory, name: str, tans: Sequence[str]) -> Tenant:
    with unit_of_work(sessions) as session:
        firm, token = create_firm(session, name)
        clients = [
            Client(firm_id=firm.id, name=f"{name} client {i}", tan=tan, pan=f"AAAPA{i:04d}A")
            for i, tan in enumerate(tans)
        ]
        session.add_all(clients)
        session.flush()
        for client in clients:
            session.add(ClientCredential(client_id=client.id, portal="traces", secret="x"))
        ids = tuple(c.id for c in clients)
        return Tenant(firm.id, token, ids, tuple(tans))


@pytest.fixture
def firm_a(sessions: SessionFactory) -> Tenant:
    return make_tenant(sessions, "Alpha", ["DELA00001A", "DELA00002A", "DELA00003A"])


@pytest.fixture
def firm_b(sessions: SessionFactory) -> Tenant:
    return make_tenant(sessions, "Bravo", ["MUMB00001B"])
