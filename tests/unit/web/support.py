"""A coordinator with the web app on a migrated SQLite copy, firms with users, browsers.

:class:`Browser` is a TestClient that signs in through the real sign-in form and keeps
the page's CSRF token, as a person's browser would.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from syncbucket.accounts.users import create_user
from syncbucket.clientmaster.firms import create_firm
from syncbucket.config import Settings, load_settings
from syncbucket.crypto import CredentialCipher, PortalCredentials
from syncbucket.db.clients import Client, ClientCredential
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.domain.roles import Role
from syncbucket_coordinator.app import create_app
from syncbucket_coordinator.container import Coordinator, bootstrap
from tests.unit.coordinator.fixtures import FakePublisher

KEY = "web-unit-test-key-0123456789-abcdefghij"
PASSWORD = "a perfectly long password"
SECRET_PASSWORD = "Tr4ces-S3cret-Passw0rd"  # a portal password that must never be shown
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class Clock:
    """The coordinator's clock, moved by tests (sessions expire, throttles lapse)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Firm:
    id: int
    name: str
    token: str
    client_ids: list[int]
    tans: list[str]
    users: dict[Role, str] = field(default_factory=dict)  # role -> e-mail


def make_firm(sessions: SessionFactory, name: str, prefix: str, count: int = 4) -> Firm:
    cipher = CredentialCipher(KEY)
    with unit_of_work(sessions) as session:
        firm, token = create_firm(session, name)
        clients = [
            Client(
                firm_id=firm.id,
                name=f"{name} client {i}",
                tan=f"{prefix}{i:05d}A",
                pan=f"AAAPA{i:04d}A",
            )
            for i in range(count)
        ]
        session.add_all(clients)
        session.flush()
        for client in clients:
            secret = cipher.encrypt(PortalCredentials(client.tan, SECRET_PASSWORD))
            session.add(ClientCredential(client_id=client.id, portal="traces", secret=secret))
        users = {}
        for role in Role:
            email = f"{role.value}@{prefix.lower()}.example"
            create_user(session, firm.id, email, role, PASSWORD)
            users[role] = email
        return Firm(firm.id, name, token, [c.id for c in clients], [c.tan for c in clients], users)


class Browser:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.csrf = ""

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        response = self.client.get(path, **kwargs)  # type: ignore[arg-type]
        self._remember(response)
        return response

    def post(
        self, path: str, data: dict[str, object] | None = None, **kwargs: object
    ) -> httpx.Response:
        body = {"csrf_token": self.csrf, **(data or {})}
        kwargs.setdefault("follow_redirects", False)
        return self.client.post(path, data=body, **kwargs)  # type: ignore[arg-type]

    def _remember(self, response: httpx.Response) -> None:
        found = CSRF_RE.search(response.text)
        if found:
            self.csrf = found.group(1)

    def sign_in(self, email: str, password: str = PASSWORD) -> httpx.Response:
        self.get("/signin")
        response = self.post("/signin", {"email": email, "password": password, "next": "/clients"})
        if response.status_code == 303:
            self.get("/clients")
        return response


@dataclass
class World:
    coordinator: Coordinator
    app_client: TestClient
    clock: Clock
    a: Firm
    b: Firm

    @property
    def sessions(self) -> SessionFactory:
        return self.coordinator.sessions

    def browser(self, role: Role | None = Role.ADMIN, firm: Firm | None = None) -> Browser:
        client = TestClient(self.app_client.app)
        browser = Browser(client)
        if role is not None:
            response = browser.sign_in((firm or self.a).users[role])
            assert response.status_code == 303, response.text[:500]
        return browser


def settings_for(sqlite_url: str, **overrides: object) -> Settings:
    return load_settings(
        database_url=sqlite_url, secret_key=KEY, dispatch_interval_seconds=0.05, **overrides
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(sqlite_url: str, engine: sa.Engine, clock: Clock) -> Iterator[World]:
    root = bootstrap(
        settings_for(sqlite_url), engine=engine, publisher=FakePublisher(), clock=clock
    )
    a = make_firm(root.sessions, "Alpha & Co", "DELA")
    b = make_firm(root.sessions, "Bravo Associates", "MUMB")
    with TestClient(create_app(root)) as client:
        yield World(root, client, clock, a, b)
    root.close()


def text_of(response: httpx.Response) -> str:
    """The page's text without tags and with spaces collapsed: what a person reads."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.text)).split())
