"""Both portal clients against the running portal simulator: all six modules, then every
fault knob, asserting the error class and code or the recovery."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from syncbucket.config import load_settings
from syncbucket.crypto import PortalCredentials
from syncbucket.domain import records as r
from syncbucket.domain.portals import ModuleKey, Portal
from syncbucket.portals import registry
from syncbucket.portals.base import AnyPortalClient
from syncbucket.portals.errors import (
    AccountLocked,
    ErrorCode,
    InvalidCredentials,
    PortalMaintenance,
    PortalRateLimited,
    PortalTransient,
)
from syncbucket.portals.http import PortalTimeouts
from syncbucket.portals.itportal import fetch_challans
from syncbucket.portals.itportal.client import ItPortalClient
from syncbucket.portals.traces import outstanding_demand, return_summary, verify_ldc
from syncbucket.portals.traces.client import TracesClient
from syncbucket.portalsim.accounts import demo_password, wrong_password
from syncbucket.portalsim.server import RunningSimulator, start_simulator

pytestmark = pytest.mark.integration

TAN = "DELS00003K"  # has unconsumed challans and a demand with a "Prior Years" row
SIM_TODAY = date(2026, 2, 28)


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with start_simulator(port=0, faults={}) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(sim: RunningSimulator) -> None:
    sim.reset()


def client(
    sim: RunningSimulator,
    portal: Portal,
    *,
    tan: str = TAN,
    password: str | None = None,
    read_timeout: float = 10.0,
) -> AnyPortalClient:
    creds = PortalCredentials(user_id=tan, password=password or demo_password(portal, tan))
    timeouts = PortalTimeouts(connect=5.0, read=read_timeout)
    if portal == Portal.TRACES:
        return TracesClient(base_url=sim.traces_url, credentials=creds, tan=tan, timeouts=timeouts)
    return ItPortalClient(base_url=sim.itportal_url, credentials=creds, tan=tan, timeouts=timeouts)


def logins(sim: RunningSimulator, portal: Portal) -> dict[str, int]:
    result: dict[str, int] = sim.stats()["portals"][portal.value]["logins"]
    return result


@pytest.mark.parametrize("item", registry.PARTS, ids=lambda p: f"{p.module}-{p.portal}")
def test_every_module_part(sim: RunningSimulator, item: registry.ModulePart) -> None:
    settings = load_settings(traces_base_url=sim.traces_url, itportal_base_url=sim.itportal_url)
    for tan in ("DELS00001K", "DELS00002K", TAN, "DELS00012K"):
        creds = PortalCredentials(user_id=tan, password=demo_password(item.portal, tan))
        with registry.build_client(item.portal, settings=settings, credentials=creds, tan=tan) as c:
            records = item.fetch(c)
        assert all(type(rec) is item.record_type for rec in records)
        assert len({rec.natural_key for rec in records}) == len(records)


def test_one_login_serves_all_traces_modules(sim: RunningSimulator) -> None:
    with client(sim, Portal.TRACES) as traces:
        for module in registry.modules_for(Portal.TRACES):
            registry.fetch_part(module, traces)
    assert logins(sim, Portal.TRACES)["succeeded"] == 1
    demand = outstanding_demand.fetch(client(sim, Portal.TRACES))
    assert "prior" in {rec.fin_year for rec in demand}


def test_verify_ldc_verdicts(sim: RunningSimulator) -> None:
    records = verify_ldc.fetch(client(sim, Portal.TRACES, tan="DELS00012K"), today=SIM_TODAY)
    assert {"invalid", "valid", "expired", "cancelled"} <= {rec.verdict for rec in records}


def test_latency_is_only_slower(sim: RunningSimulator) -> None:
    expected = return_summary.fetch(client(sim, Portal.TRACES))
    sim.set_faults("traces", latency_ms_min=20, latency_ms_max=60)
    assert return_summary.fetch(client(sim, Portal.TRACES)) == expected


@pytest.mark.parametrize("portal", list(Portal))
def test_5xx_is_transient(sim: RunningSimulator, portal: Portal) -> None:
    sim.set_faults(portal.value, error_5xx_rate=1.0)
    with pytest.raises(PortalTransient) as caught:
        client(sim, portal).login()
    assert caught.value.code == ErrorCode.SERVER_ERROR


def test_timeout_is_transient(sim: RunningSimulator) -> None:
    sim.set_faults("itportal", timeout_rate=1.0, timeout_hang_seconds=2.0)
    with pytest.raises(PortalTransient) as caught:
        client(sim, Portal.ITPORTAL, read_timeout=0.3).login()
    assert caught.value.code == ErrorCode.TIMEOUT


def test_an_html_error_page_is_transient(sim: RunningSimulator) -> None:
    sim.set_faults("traces", html_rate=1.0)
    with pytest.raises(PortalTransient) as caught:
        return_summary.fetch(client(sim, Portal.TRACES))
    assert caught.value.code == ErrorCode.ERROR_PAGE


def test_truncated_json_is_transient(sim: RunningSimulator) -> None:
    sim.set_faults("itportal", truncated_rate=1.0)
    with pytest.raises(PortalTransient) as caught:
        fetch_challans.fetch(client(sim, Portal.ITPORTAL))
    assert caught.value.code == ErrorCode.TRUNCATED


def test_maintenance_defers(sim: RunningSimulator) -> None:
    sim.set_faults("traces", maintenance=True, maintenance_retry_after_seconds=120)
    with pytest.raises(PortalMaintenance) as caught:
        client(sim, Portal.TRACES).login()
    assert caught.value.retry_after == 120.0
    assert "TRACES is down for maintenance; the item will be retried after 120 s" in str(
        caught.value
    )


def test_rate_limit_429(sim: RunningSimulator) -> None:
    sim.set_faults("traces", rate_limit_per_second=0.1, rate_limit_burst=1)
    with pytest.raises(PortalRateLimited) as caught:
        client(sim, Portal.TRACES).login()  # captcha passes, the login post is refused
    assert caught.value.retry_after is not None and caught.value.retry_after >= 1
    assert sim.stats()["portals"]["traces"]["rate_limited"] >= 1


@pytest.mark.parametrize("style", ["410", "html", "mixed"])
def test_traces_session_expiry_relogs_in_once(sim: RunningSimulator, style: str) -> None:
    sim.set_faults("traces", session_expiry_style=style)
    traces = client(sim, Portal.TRACES)
    traces.login()
    sim.state.clock.advance(1801)  # past the default session lifetime
    assert return_summary.fetch(traces)
    assert logins(sim, Portal.TRACES)["succeeded"] == 2


@pytest.mark.parametrize("portal", list(Portal))
def test_expiry_right_after_login_is_transient(sim: RunningSimulator, portal: Portal) -> None:
    sim.set_faults(portal.value, session_ttl_seconds=0.000001, session_expiry_style="mixed")
    with pytest.raises(PortalTransient) as caught:
        registry.fetch_part(registry.modules_for(portal)[0], client(sim, portal))
    assert caught.value.code == ErrorCode.SESSION_EXPIRED
    # IT portal: login, expiry, one re-login, expiry again. TRACES: the access token is
    # already stale at pre-auth, which fails the first login before any data call.
    assert logins(sim, portal)["succeeded"] == {Portal.ITPORTAL: 2, Portal.TRACES: 1}[portal]


def test_itportal_session_expiry_relogs_in(sim: RunningSimulator) -> None:
    it = client(sim, Portal.ITPORTAL)
    it.login()
    sim.state.clock.advance(1801)
    assert fetch_challans.fetch(it)
    assert logins(sim, Portal.ITPORTAL)["succeeded"] == 2


@pytest.mark.parametrize("portal", list(Portal))
def test_bad_logins_lock_the_account(sim: RunningSimulator, portal: Portal) -> None:
    outcomes = []
    for _ in range(6):
        try:
            client(sim, portal, password=wrong_password(portal, TAN)).login()
        except InvalidCredentials as exc:  # AccountLocked is one too
            outcomes.append(type(exc))
        if outcomes[-1] is AccountLocked:
            break
    assert outcomes == [InvalidCredentials] * 4 + [AccountLocked]
    with pytest.raises(AccountLocked):  # even the right password, now
        client(sim, portal).login()


def test_itportal_ef00177_force_login(sim: RunningSimulator) -> None:
    sim.set_faults("itportal", max_sessions=1)
    first = client(sim, Portal.ITPORTAL)
    first.login()
    second = client(sim, Portal.ITPORTAL)
    assert fetch_challans.fetch(second)
    assert logins(sim, Portal.ITPORTAL)["session_limit"] == 1
    assert sim.stats()["portals"]["itportal"]["sessions_live"] == 1
    assert fetch_challans.fetch(first)  # its session was evicted: it logs in again (forced)


def test_records_are_typed(sim: RunningSimulator) -> None:
    demand = registry.part(ModuleKey.OUTSTANDING_DEMAND, Portal.TRACES).fetch(
        client(sim, Portal.TRACES)
    )
    assert all(isinstance(rec, r.OutstandingDemand) for rec in demand)
