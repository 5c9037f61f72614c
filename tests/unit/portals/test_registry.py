"""The module registry is complete and consistent (docs/architecture.md, "Layout")."""

from __future__ import annotations

import inspect
import typing

import httpx
import pytest

from syncbucket.config import load_settings
from syncbucket.domain import records
from syncbucket.domain.portals import ModuleKey, Portal
from syncbucket.portals import registry
from syncbucket.portals.itportal.client import ItPortalClient
from syncbucket.portals.traces.client import TracesClient

from .fakes import TAN, credentials


def test_every_module_has_a_part() -> None:
    for module in ModuleKey:
        assert registry.parts_for(module), f"{module} has no part"


def test_no_duplicate_module_portal_pairs() -> None:
    pairs = [(p.module, p.portal) for p in registry.PARTS]
    assert len(pairs) == len(set(pairs))


def test_every_part_portal_has_a_client() -> None:
    assert set(registry.CLIENTS) == set(Portal)
    for item in registry.PARTS:
        assert item.portal in registry.CLIENTS


def test_notices_orders_is_split_in_two() -> None:
    assert set(registry.portals_for(ModuleKey.NOTICES_ORDERS)) == {Portal.TRACES, Portal.ITPORTAL}
    assert len(registry.parts_for(ModuleKey.NOTICES_ORDERS)) == 2


@pytest.mark.parametrize("item", registry.PARTS, ids=lambda p: f"{p.module}-{p.portal}")
def test_record_type_matches_fetch(item: registry.ModulePart) -> None:
    assert issubclass(item.record_type, records.Record)
    assert item.record_type.key_fields, "a record type needs a natural key"
    hints = typing.get_type_hints(item.fetch)
    assert hints["return"] == list[item.record_type]  # type: ignore[name-defined]
    assert item.fetch.__module__.split(".")[-2] == item.portal.value  # file in its portal's folder


def test_lookups() -> None:
    assert registry.part("return_summary", "traces").record_type is records.StatementStatus
    assert registry.portals_for("fetch_challans") == (Portal.ITPORTAL,)
    assert ModuleKey.NOTICES_ORDERS in registry.modules_for(Portal.TRACES)
    with pytest.raises(registry.UnknownModulePart, match="has no itportal part"):
        registry.part("return_summary", "itportal")


def test_build_client_uses_settings() -> None:
    settings = load_settings(traces_base_url="http://t.test/traces", portal_read_timeout_seconds=7)
    transport = httpx.MockTransport(lambda request: httpx.Response(500))
    for portal, kind in ((Portal.TRACES, TracesClient), (Portal.ITPORTAL, ItPortalClient)):
        client = registry.build_client(
            portal, settings=settings, credentials=credentials(), tan=TAN, transport=transport
        )
        assert type(client) is kind and client.portal == portal
        assert client._http.timeouts.read == 7.0
    traces = registry.build_client(
        Portal.TRACES, settings=settings, credentials=credentials(), tan=TAN
    )
    assert "http://t.test/traces" in repr(traces)


def test_client_factories_share_a_signature() -> None:
    for factory in registry.CLIENTS.values():
        params = inspect.signature(factory).parameters
        assert {"settings", "credentials", "tan", "transport"} <= set(params)
