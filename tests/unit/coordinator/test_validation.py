from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from syncbucket.db.session import SessionFactory
from tests.unit.coordinator.fixtures import Tenant, make_tenant


def post(api: TestClient, tenant: Tenant, body: Any) -> Any:
    return api.post("/api/v1/runs", json=body, headers=tenant.headers)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"clients": "all", "modules": ["challans", "return_summary"]}, "modules", "challans"),
        ({"clients": "all", "modules": []}, "modules", "at least 1"),
        ({"clients": "all", "modules": "some"}, "modules", '"all"'),
        ({"clients": "everyone", "modules": "all"}, "clients", '"all"'),
        ({"clients": ["DELA00001A"], "modules": "all"}, "clients", '"tans"'),
        ({"clients": "all", "modules": {"return_summary": True}}, "modules", '"all"'),
        ({"clients": {}, "modules": "all"}, "clients", "exactly one"),
        ({"clients": {"tans": ["DELA00001A"], "ids": [1]}, "modules": "all"}, "clients", "one"),
        ({"clients": {"tans": []}, "modules": "all"}, "clients.tans", "at least 1"),
        ({"clients": {"tans": ["DELA1"]}, "modules": "all"}, "clients.tans", "DELA1"),
        ({"clients": {"ids": ["x"]}, "modules": "all"}, "clients.ids[0]", "integer"),
        ({"clients": "all", "modules": "all", "priority": "high"}, "priority", "integer"),
        ({"clients": "all", "modules": "all", "colour": 1}, "colour", "not permitted"),
        ({"modules": "all"}, "clients", "required"),
    ],
)
def test_invalid_bodies_name_the_field(
    api: TestClient, firm_a: Tenant, body: dict[str, Any], field: str, words: str
) -> None:
    response = post(api, firm_a, body)
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["error"] == "invalid_request"
    assert [f["field"] for f in error["fields"]] == [field]
    assert words in error["message"]


def test_unknown_tan_is_named(api: TestClient, firm_a: Tenant) -> None:
    response = post(api, firm_a, {"clients": {"tans": ["ZZZZ99999Z"]}, "modules": "all"})
    assert response.status_code == 422
    assert response.json()["error"] == "unknown_clients"
    assert "ZZZZ99999Z" in response.json()["message"]


def test_firm_without_clients_is_refused(api: TestClient, sessions: SessionFactory) -> None:
    empty = make_tenant(sessions, "Empty", [])
    response = post(api, empty, {"clients": "all", "modules": "all"})
    assert response.status_code == 422
    assert response.json()["error"] == "no_clients" and response.json()["message"]


def test_malformed_json_is_422(api: TestClient, firm_a: Tenant) -> None:
    response = api.post(
        "/api/v1/runs",
        content=b"{not json",
        headers={**firm_a.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422 and response.json()["error"] == "invalid_request"
    assert response.json()["message"].startswith("body: not valid JSON")
