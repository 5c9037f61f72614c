"""``/metrics``: the simulator's counters as ``syncbucket_sim_*`` on its own registry.

A custom collector reads :class:`~syncbucket.portalsim.counters.Counters` at scrape time,
so ``POST /admin/reset`` zeroes the metrics too (scrapers see an ordinary counter reset).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from syncbucket.portalsim.faults import PORTALS
from syncbucket.portalsim.state import SimulatorState


class SimulatorCollector(Collector):
    def __init__(self, state: SimulatorState) -> None:
        self._state = state

    def collect(self) -> Iterator[Metric]:
        snap = self._state.counters.copy()
        requests = CounterMetricFamily(
            "syncbucket_sim_requests", "Requests received", labels=["portal", "endpoint"]
        )
        for (portal, endpoint), count in sorted(snap.requests.items()):
            requests.add_metric([portal, endpoint], count)
        responses = CounterMetricFamily(
            "syncbucket_sim_responses", "Responses sent", labels=["portal", "status"]
        )
        for (portal, status), count in sorted(snap.responses.items()):
            responses.add_metric([portal, status], count)
        logins = CounterMetricFamily(
            "syncbucket_sim_logins", "Login attempts by result", labels=["portal", "result"]
        )
        for (portal, result), count in sorted(snap.logins.items()):
            logins.add_metric([portal, result], count)
        yield requests
        yield responses
        yield logins
        yield from self._per_portal(snap.rate_limited, snap.lockouts)

    def _per_portal(self, limited: dict[str, int], lockouts: dict[str, int]) -> Iterator[Metric]:
        rate_limited = CounterMetricFamily(
            "syncbucket_sim_rate_limited", "429 answers sent", labels=["portal"]
        )
        locked = CounterMetricFamily(
            "syncbucket_sim_lockouts", "Accounts locked after failed logins", labels=["portal"]
        )
        sessions = GaugeMetricFamily("syncbucket_sim_sessions", "Live sessions", labels=["portal"])
        for portal in PORTALS:
            rate_limited.add_metric([portal], limited.get(portal, 0))
            locked.add_metric([portal], lockouts.get(portal, 0))
            sessions.add_metric([portal], self._state.live_sessions(portal))
        yield rate_limited
        yield locked
        yield sessions


def make_registry(state: SimulatorState) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SimulatorCollector(state))
    return registry


def render(registry: CollectorRegistry) -> tuple[bytes, str]:
    return generate_latest(registry), CONTENT_TYPE_LATEST
