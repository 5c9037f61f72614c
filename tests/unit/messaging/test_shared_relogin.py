"""Shared sessions at the portal edge: one re-login for many items, lockout messages."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from syncbucket.config import Settings
from syncbucket.contracts.messages import OutcomeMessage, WorkMessage
from syncbucket.crypto import PortalCredentials
from syncbucket.db.base import utcnow
from syncbucket.domain.portals import ModuleKey, Portal
from syncbucket.pipeline.work import Attempt, WorkDeps, WorkResult, process_work
from syncbucket.portals.base import AnyPortalClient
from syncbucket.portals.registry import build_client, fetch_part
from syncbucket.portalsim.accounts import demo_password, demo_user_id
from syncbucket.portalsim.server import RunningSimulator
from syncbucket.sessions.breaker import InMemoryLoginBreaker
from syncbucket.sessions.login_guard_redis import BreakerLoginGuard
from tests.support.messaging_world import World

M = ModuleKey
TRACES_MODULES = [M.RETURN_SUMMARY, M.UNCONSUMED_CHALLANS, M.OUTSTANDING_DEMAND, M.VERIFY_LDC]


def attempt_one() -> Attempt:
    return Attempt(number=1, first_started_at=utcnow())


def side_by_side(deps: WorkDeps, messages: list[WorkMessage]) -> list[WorkResult]:
    """Each message on its own thread (its own portal client, as another process would)."""
    barrier = threading.Barrier(len(messages))

    def one(message: WorkMessage) -> WorkResult:
        barrier.wait()
        return process_work(deps, message, attempt_one())

    with ThreadPoolExecutor(len(messages)) as pool:
        return list(pool.map(one, messages))


def user_logins(sim: RunningSimulator, portal: str, tan: str) -> int:
    by_user: dict[str, int] = sim.stats()["portals"][portal]["logins_by_user"]
    return by_user.get(demo_user_id(portal, tan), 0)


def test_an_expired_shared_session_is_renewed_by_exactly_one_login(
    world: World, deps: WorkDeps, sim: RunningSimulator
) -> None:
    sim.set_faults("traces", latency_ms_min=20, latency_ms_max=40)
    client_id, tan = world.add_client()
    _, messages = world.start_run([client_id], TRACES_MODULES)
    first = process_work(deps, messages[0], attempt_one())
    assert isinstance(first, OutcomeMessage) and first.status == "succeeded"
    assert user_logins(sim, "traces", tan) == 1
    sim.state.clock.advance(3600)  # the portal dropped the session; our cache still has it
    results = side_by_side(deps, messages[1:])
    assert [r.status for r in results if isinstance(r, OutcomeMessage)] == ["succeeded"] * 3
    assert user_logins(sim, "traces", tan) == 2  # one re-login, shared by all three


def test_the_portal_clients_relogin_hook_replaces_its_own_login(
    settings: Settings, sim: RunningSimulator
) -> None:
    tan = "DELA12345B"
    credentials = PortalCredentials(demo_user_id("traces", tan), demo_password("traces", tan))
    client: AnyPortalClient = build_client(
        Portal.TRACES, settings=settings, credentials=credentials, tan=tan
    )
    other: AnyPortalClient = build_client(
        Portal.TRACES, settings=settings, credentials=credentials, tan=tan
    )
    expired_seen: list[object] = []

    def relogin(expired: object) -> object:
        expired_seen.append(expired)
        return other.login()

    with client, other:
        old = client.login()
        client.relogin = relogin
        sim.state.clock.advance(3600)
        fetch_part(M.RETURN_SUMMARY, client)
    assert expired_seen == [old]
    assert client.session is not None and client.session is not old
    assert user_logins(sim, "traces", tan) == 2


def test_after_a_rejected_login_the_other_items_fail_at_once_saying_what_to_fix(
    world: World, deps: WorkDeps, sim: RunningSimulator
) -> None:
    reported: list[tuple[str, str]] = []
    shared = replace(
        deps,
        login_guard=BreakerLoginGuard(InMemoryLoginBreaker()),
        on_login=lambda portal, result: reported.append((portal, result)),
    )
    client_id, tan = world.add_client(wrong=[Portal.TRACES])
    _, messages = world.start_run([client_id], TRACES_MODULES)
    results = side_by_side(shared, messages)
    outcomes = [r for r in results if isinstance(r, OutcomeMessage)]
    assert {(o.status, o.error_code) for o in outcomes} == {("failed", "invalid_credentials")}
    assert user_logins(sim, "traces", tan) == 1
    assert sorted(reported) == [("traces", "rejected")] + [("traces", "skipped_breaker")] * 3
    for outcome in outcomes:
        text = outcome.error_message or ""
        assert "client master" in text and "TRACES" in text, text
    later = [
        o.error_message or "" for o in outcomes if "earlier in this run" in (o.error_message or "")
    ]
    assert len(later) == 3
    assert all("no further login was tried" in text for text in later)
