"""The module registry: which portal parts make up each module, and how to build clients.

DECISION (docs/architecture.md, "Domain"): the user-visible module ``notices_orders`` is
split into TWO items, one per portal — the IT portal e-Proceedings part and the TRACES
raised-requests part. Each item then runs in its own portal's queue, worker pool and
rate-limit bucket (docs/architecture.md §3, §4), a TRACES outage never holds up the
IT portal half, and each half retries and fails on its own. An item is therefore unique
per (run, client, module, portal); the module key the user sees stays ``notices_orders``
and reports group the two parts under it. Every other module has exactly one part.

Adding a module = one file in its portal's folder plus one line in ``PARTS`` (and its key
in ``ModuleKey``); adding a portal = one folder plus one line in ``CLIENTS``.
``tests/unit/portals/test_registry.py`` checks the registry is complete and consistent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import httpx

from syncbucket.config import Settings
from syncbucket.crypto import PortalCredentials
from syncbucket.domain import records as r
from syncbucket.domain.portals import ModuleKey, Portal
from syncbucket.portals.base import AnyPortalClient
from syncbucket.portals.itportal import eproceedings, fetch_challans
from syncbucket.portals.itportal.client import ItPortalClient
from syncbucket.portals.traces import (
    outstanding_demand,
    raised_requests,
    return_summary,
    unconsumed_challans,
    verify_ldc,
)
from syncbucket.portals.traces.client import TracesClient

Fetch = Callable[[AnyPortalClient], Sequence[r.Record]]


@dataclass(frozen=True)
class ModulePart:
    """One portal's share of a module: what to fetch there and what records it yields.

    ``typical_requests`` is how many HTTP requests one client's fetch usually takes (pages,
    per-certificate or per-proceeding calls), login excluded: the Sync Bucket's estimate
    multiplies it by the clients and divides by the portal's rate limit. The figures are
    the simulator's means over the demo clients, which
    ``tests/integration/test_request_figures.py`` keeps honest.
    """

    module: ModuleKey
    portal: Portal
    fetch: Fetch
    record_type: type[r.Record]
    typical_requests: float = 1.0


class ClientFactory(Protocol):
    def __call__(
        self,
        *,
        settings: Settings,
        credentials: PortalCredentials,
        tan: str,
        transport: httpx.BaseTransport | None = None,
    ) -> AnyPortalClient: ...


M, P = ModuleKey, Portal
PARTS: tuple[ModulePart, ...] = (
    ModulePart(M.RETURN_SUMMARY, P.TRACES, return_summary.fetch, r.StatementStatus, 1.1),
    ModulePart(M.FETCH_CHALLANS, P.ITPORTAL, fetch_challans.fetch, r.PaidChallan, 1.1),
    ModulePart(
        M.UNCONSUMED_CHALLANS, P.TRACES, unconsumed_challans.fetch, r.UnconsumedChallan, 1.0
    ),
    ModulePart(M.NOTICES_ORDERS, P.ITPORTAL, eproceedings.fetch, r.NoticeOrder, 5.7),
    ModulePart(M.NOTICES_ORDERS, P.TRACES, raised_requests.fetch, r.NoticeOrder, 1.0),
    ModulePart(M.OUTSTANDING_DEMAND, P.TRACES, outstanding_demand.fetch, r.OutstandingDemand, 1.0),
    ModulePart(M.VERIFY_LDC, P.TRACES, verify_ldc.fetch, r.LowerDeductionCertificate, 7.0),
)

# Requests one login takes: TRACES captcha + login + pre-auth; the IT portal's two-step
# login. A client's modules on a portal share one login (sessions are cached).
LOGIN_REQUESTS: dict[Portal, int] = {Portal.TRACES: 3, Portal.ITPORTAL: 2}

CLIENTS: dict[Portal, ClientFactory] = {
    Portal.TRACES: TracesClient.from_settings,
    Portal.ITPORTAL: ItPortalClient.from_settings,
}


class UnknownModulePart(LookupError):
    """No such (module, portal) pair; the message lists what exists."""


def parts_for(module: ModuleKey | str) -> tuple[ModulePart, ...]:
    """The parts of a module, one per portal it touches (IT portal first for notices)."""
    key = ModuleKey(module)
    return tuple(item for item in PARTS if item.module == key)


def part(module: ModuleKey | str, portal: Portal | str) -> ModulePart:
    key, where = ModuleKey(module), Portal(portal)
    for item in PARTS:
        if item.module == key and item.portal == where:
            return item
    known = ", ".join(item.portal.value for item in parts_for(key))
    raise UnknownModulePart(f"module {key.value} has no {where.value} part (it has: {known})")


def portals_for(module: ModuleKey | str) -> tuple[Portal, ...]:
    return tuple(item.portal for item in parts_for(module))


def modules_for(portal: Portal | str) -> tuple[ModuleKey, ...]:
    where = Portal(portal)
    return tuple(dict.fromkeys(item.module for item in PARTS if item.portal == where))


def client_factory(portal: Portal | str) -> ClientFactory:
    return CLIENTS[Portal(portal)]


def build_client(
    portal: Portal | str,
    *,
    settings: Settings,
    credentials: PortalCredentials,
    tan: str,
    transport: httpx.BaseTransport | None = None,
) -> AnyPortalClient:
    """The right client for ``portal``, its base URL and timeouts taken from ``settings``."""
    return client_factory(portal)(
        settings=settings, credentials=credentials, tan=tan, transport=transport
    )


def fetch_part(module: ModuleKey | str, client: AnyPortalClient) -> Sequence[r.Record]:
    """Fetch the part of ``module`` that belongs to ``client``'s portal."""
    return part(module, client.portal).fetch(client)


__all__ = (
    "CLIENTS",
    "LOGIN_REQUESTS",
    "PARTS",
    "ClientFactory",
    "ModulePart",
    "UnknownModulePart",
    "build_client",
    "client_factory",
    "fetch_part",
    "modules_for",
    "part",
    "parts_for",
    "portals_for",
)
