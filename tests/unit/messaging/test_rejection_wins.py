"""A rejected login stays final when Redis blips while it is remembered.

(docs/architecture.md §9)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest

from syncbucket.contracts.messages import OutcomeMessage
from syncbucket.domain.portals import ModuleKey, Portal
from syncbucket.pipeline.login_guard import InProcessLoginGuard
from syncbucket.pipeline.retry_policy import Failure
from syncbucket.pipeline.work import WorkDeps, process_work
from syncbucket.portalsim.accounts import wrong_password
from syncbucket.portalsim.server import RunningSimulator
from syncbucket.sessions.cache import ClientId, SessionCacheUnavailable
from syncbucket.sessions.memory_cache import InMemorySessionCache
from tests.support.messaging_world import World
from tests.unit.messaging.test_work import first, logins


class BlippingGuard(InProcessLoginGuard):
    """Reads work; remembering a rejection fails as a Redis blip would."""

    def remember(self, run_id: int, client_id: int, portal: str, failure: Failure) -> None:
        raise SessionCacheUnavailable(portal, "ConnectionError")


class BlippingCache(InMemorySessionCache):
    """``invalidate`` and the login lock's release fail as a Redis blip would."""

    def invalidate(self, client_id: ClientId, portal: str, only_if: str | None = None) -> bool:
        raise SessionCacheUnavailable(portal, "TimeoutError")

    @contextmanager
    def login_lock(self, client_id: ClientId, portal: str) -> Iterator[None]:
        with super().login_lock(client_id, portal):
            yield
        raise SessionCacheUnavailable(portal, "TimeoutError")  # releasing the lock failed


@pytest.mark.parametrize("cache", [InMemorySessionCache, BlippingCache])
def test_a_redis_blip_never_turns_a_rejected_login_into_a_retry(
    world: World,
    deps: WorkDeps,
    sim: RunningSimulator,
    cache: type[InMemorySessionCache],
    caplog: pytest.LogCaptureFixture,
) -> None:
    blipping = replace(deps, login_guard=BlippingGuard(), session_cache=cache())
    client_id, tan = world.add_client(wrong=[Portal.TRACES])
    _, [message] = world.start_run([client_id], [ModuleKey.RETURN_SUMMARY])
    with caplog.at_level(logging.WARNING, logger="syncbucket.pipeline.portal_fetch"):
        result = process_work(blipping, message, first(message))
    assert isinstance(result, OutcomeMessage)  # final, not a RetryDecision
    assert (result.status, result.error_code, result.attempts) == (
        "failed",
        "invalid_credentials",
        1,
    )
    assert logins(sim, "traces")["attempted"] == 1
    assert "could not remember the rejected login" in caplog.text
    assert "SessionCacheUnavailable" in caplog.text
    assert wrong_password(Portal.TRACES, tan) not in caplog.text
