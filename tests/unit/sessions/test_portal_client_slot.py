"""A real portal client (TRACES, scripted portal) behind the rate-limited transport and the
shared session: several items of one client cost one login, and every request is paced."""

from __future__ import annotations

from functools import partial

from syncbucket.portals.traces.client import TracesClient, TracesSession
from syncbucket.ratelimit.limiter import PortalLimit
from syncbucket.ratelimit.memory import InMemoryRateLimiter
from syncbucket.ratelimit.transport import RateLimitedTransport
from syncbucket.sessions.memory_cache import InMemorySessionCache
from syncbucket.sessions.shared import PortalClientSlot, with_shared_session
from tests.unit.portals.fakes import TAN, TRACES_URL, FakeTraces, credentials, fixed
from tests.unit.ratelimit.clock import FakeClock

DATA = "/app/srv/demand"


def test_items_of_one_client_share_one_login_and_every_request_is_paced() -> None:
    fake = FakeTraces(routes={DATA: fixed({"rows": []})})
    clock = FakeClock()
    limiter = InMemoryRateLimiter({"traces": PortalLimit(2, 1)}, clock=clock)
    waits: list[float] = []
    transport = RateLimitedTransport(
        fake.transport(),
        limiter,
        "traces",
        sleep=clock.advance,
        on_wait=lambda p, w: waits.append(w),
    )
    cache = InMemorySessionCache(clock=clock)
    for _ in range(3):  # three items, each with its own client, as on a worker
        client = TracesClient(
            base_url=TRACES_URL, credentials=credentials(), tan=TAN, transport=transport
        )
        slot = PortalClientSlot(client, TracesSession)
        with client:
            body = with_shared_session(
                cache, 42, "traces", slot, slot.login, partial(client.get_json, DATA, what="x")
            )
        assert body == {"rows": []}
    assert fake.logins == 1
    assert len(waits) == len(fake.seen)  # captcha + login + pre-auth + 3 data requests
    assert waits[0] == 0 and all(w == 0.5 for w in waits[1:])


def test_a_session_the_client_renewed_on_expiry_is_shared_afterwards() -> None:
    fake = FakeTraces(routes={DATA: fixed({"rows": []})})
    cache = InMemorySessionCache()
    first = TracesClient(
        base_url=TRACES_URL, credentials=credentials(), tan=TAN, transport=fake.transport()
    )
    slot = PortalClientSlot(first, TracesSession)
    with_shared_session(cache, 42, "traces", slot, slot.login, lambda: None)
    fake.expire = ["410"]  # the client re-logs in by itself on this one
    with_shared_session(
        cache, 42, "traces", slot, slot.login, lambda: first.get_json(DATA, what="x")
    )
    assert fake.logins == 2
    cached = cache.get(42, "traces")
    assert cached is not None and cached["jsessionid"] == "JS-SECRET-2"
