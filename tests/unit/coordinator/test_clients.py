from __future__ import annotations

from fastapi.testclient import TestClient

from tests.unit.coordinator.fixtures import Tenant


def test_clients_lists_only_the_firms_own_without_secrets(
    api: TestClient, firm_a: Tenant, firm_b: Tenant
) -> None:
    body = api.get("/api/v1/clients", headers=firm_a.headers).json()
    assert body["total"] == 3 and body["next_offset"] is None
    assert sorted(c["tan"] for c in body["clients"]) == sorted(firm_a.tans)
    assert all(c["portals"] == ["traces"] for c in body["clients"])
    fields = {"id", "name", "tan", "pan", "active", "portals", "demo_note", "credentials"}
    assert all(set(c) == fields | {"modules"} for c in body["clients"])
    assert all(
        c["credentials"] == {"traces": "unchecked", "itportal": "missing"} for c in body["clients"]
    )
    other = api.get("/api/v1/clients", headers=firm_b.headers).json()
    assert [c["tan"] for c in other["clients"]] == list(firm_b.tans)


def test_clients_are_paginated(api: TestClient, firm_a: Tenant) -> None:
    first = api.get("/api/v1/clients?limit=2", headers=firm_a.headers).json()
    assert len(first["clients"]) == 2 and first["next_offset"] == 2
    second = api.get("/api/v1/clients?limit=2&offset=2", headers=firm_a.headers).json()
    assert len(second["clients"]) == 1 and second["next_offset"] is None
    seen = {c["id"] for c in first["clients"] + second["clients"]}
    assert seen == set(firm_a.client_ids)


def test_clients_limit_is_validated(api: TestClient, firm_a: Tenant) -> None:
    response = api.get("/api/v1/clients?limit=0", headers=firm_a.headers)
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "limit"
