"""The real stack (PostgreSQL, a private RabbitMQ vhost, the coordinator serving the web
app, the aggregator, both worker pools, the simulator) and Chromium driving it.

One stack and one browser for the package (package scope: Playwright's sync API keeps an
event loop on the main thread while it runs, which later asyncio tests must not meet);
each test gets a fresh browser context (its own cookies) whose every response is scanned
for secrets when the test ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from syncbucket.accounts.users import create_user
from syncbucket.clientmaster.firms import create_firm
from syncbucket.clientmaster.seed import seed_demo
from syncbucket.config import load_settings
from syncbucket.crypto import CredentialCipher, PortalCredentials
from syncbucket.db import migrate
from syncbucket.db.clients import Client, ClientCredential
from syncbucket.db.engine import make_engine
from syncbucket.db.session import make_session_factory, unit_of_work
from syncbucket.domain.portals import ModuleKey, Portal
from syncbucket.domain.roles import Role
from syncbucket.pipeline.requests import RunRequest
from syncbucket.pipeline.runs import create_run
from syncbucket.portalsim.accounts import demo_password, wrong_password
from tests.browser.support import Seen, launch
from tests.e2e.conftest import RunningStack, SeededDatabase, start_stack
from tests.support.db import scratch_postgres
from tests.support.services import private_vhost

CLIENTS = 40
STAFF_PASSWORD = "browser-test password 1"
OTHER_SECRET = "Other-Firm-Secret-99"


@dataclass(frozen=True)
class Site:
    url: str  # the coordinator: web app and API
    sim_url: str
    token: str  # the demo firm's API token
    emails: dict[Role, str]
    other_run: int  # a run of another firm
    other_client: int
    secrets: set[str]  # must never reach a browser

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.url}/api/v1",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )


def _seed(url: str) -> tuple[SeededDatabase, dict[Role, str], int, int, set[str]]:
    migrate.upgrade(url)
    engine = make_engine(url)
    cipher = CredentialCipher(load_settings().require_secret_key())
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            report = seed_demo(session, CLIENTS, cipher)
            assert report.token is not None
            emails = {}
            for role in Role:
                email = f"{role.value}@demo-firm.example"
                create_user(session, report.firm.id, email, role, STAFF_PASSWORD)
                emails[role] = email
            other, _token = create_firm(session, "Other Firm")
            client = Client(
                firm_id=other.id, name="Other client", tan="KOLK00001A", pan="AAAPK0001A"
            )
            session.add(client)
            session.flush()
            secret = cipher.encrypt(PortalCredentials("KOLK00001A", OTHER_SECRET))
            session.add(ClientCredential(client_id=client.id, portal="traces", secret=secret))
            create_user(session, other.id, "admin@other-firm.example", Role.ADMIN, STAFF_PASSWORD)
            run = create_run(
                session, RunRequest(firm_id=other.id, modules=[ModuleKey.VERIFY_LDC])
            ).run_id
            tans = [c.tan for c in session.query(Client).filter(Client.firm_id == report.firm.id)]
    finally:
        engine.dispose()
    secrets = {STAFF_PASSWORD, OTHER_SECRET} | {
        make(portal, tan)
        for tan in tans
        for portal in Portal
        for make in (demo_password, wrong_password)
    }
    seeded = SeededDatabase(url, report.firm.id, report.token, CLIENTS)
    return seeded, emails, run, client.id, secrets


@pytest.fixture(scope="package")
def site(postgres_server_url: str, amqp_url: str) -> Iterator[Site]:
    with scratch_postgres(postgres_server_url) as url, private_vhost(amqp_url) as vhost:
        seeded, emails, other_run, other_client, secrets = _seed(url)
        running: RunningStack = start_stack(
            seeded, vhost, progress_tick_seconds=0.5, log_level="WARNING"
        )
        try:
            yield Site(
                running.api_url,
                running.sim_url,
                seeded.token,
                emails,
                other_run,
                other_client,
                secrets,
            )
        finally:
            running.stack.stop()
            print("---- output of the stack's processes (tail) ----")
            print(running.stack.output_tail())


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as started:
        yield started


@pytest.fixture(scope="package")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    browser = launch(playwright)
    yield browser
    browser.close()


@dataclass
class Visit:
    """One person at one browser: the page, everything it received, and helpers."""

    page: Page
    context: BrowserContext
    seen: Seen
    site: Site

    def sign_in(self, role: Role, email: str | None = None) -> None:
        self.page.goto(f"{self.site.url}/signin")
        self.page.get_by_label("E-mail address").fill(email or self.site.emails[role])
        self.page.get_by_label("Password").fill(STAFF_PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url("**/clients**")

    def go(self, path: str) -> None:
        self.page.goto(f"{self.site.url}{path}")


@pytest.fixture
def visit(chromium: Browser, site: Site) -> Iterator[Visit]:
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    seen = Seen()
    seen.watch(page)
    yield Visit(page, context, seen, site)
    context.close()
    leaks = seen.leaks(site.secrets)
    assert not leaks, leaks
    csp = [e for e in seen.console_errors if "Content Security Policy" in e or "Refused to" in e]
    assert not csp, csp


SimFaults = Callable[..., None]


@pytest.fixture
def sim_faults(site: Site) -> Iterator[SimFaults]:
    """Set simulator knobs for one test; they go back to none afterwards."""
    touched: set[str] = set()

    def set_faults(portal: str, **knobs: object) -> None:
        touched.add(portal)
        response = httpx.put(f"{site.sim_url}/admin/faults/{portal}", json=knobs, timeout=10)
        assert response.status_code == 200, response.text

    yield set_faults
    for portal in touched:
        httpx.put(
            f"{site.sim_url}/admin/faults/{portal}",
            json={"latency_ms_min": 0, "latency_ms_max": 0},
            timeout=10,
        )
