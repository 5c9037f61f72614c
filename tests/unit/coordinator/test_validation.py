from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from syncbucket.db.session import SessionFactory
from syncbucket_coordinator.container import Coordinator
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
        ({"clients": "all", "modules": "all", "priority": 11}, "priority", "10"),
        ({"clients": "all", "modules": "all", "priority": 1000}, "priority", "10"),
        ({"clients": "all", "modules": "all", "priority": -1}, "priority", "0"),
        ({"clients": {"ids": [2**31]}, "modules": "all"}, "clients.ids[0]", "2147483647"),
        ({"clients": {"ids": [2**63]}, "modules": "all"}, "clients.ids[0]", "2147483647"),
        ({"clients": {"ids": [0]}, "modules": "all"}, "clients.ids[0]", "1"),
        (
            {"clients": "all", "modules": "all", "idempotency_key": "retry-of-7"},
            "idempotency_key",
            "reserved",
        ),
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


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (f"/api/v1/runs/{2**31}", "run_id"),
        (f"/api/v1/runs/{2**63}", "run_id"),
        (f"/api/v1/runs/{2**31}/items", "run_id"),
        (f"/api/v1/runs/{2**31}/report.csv", "run_id"),
        (f"/api/v1/runs?before_id={2**31}", "before_id"),
        (f"/api/v1/runs?before_id={2**64}", "before_id"),
        (f"/api/v1/runs/1/items?after_id={2**63}", "after_id"),
    ],
)
def test_ids_out_of_range_are_422_naming_the_field(
    api: TestClient, firm_a: Tenant, url: str, field: str
) -> None:
    response = api.get(url, headers=firm_a.headers)
    assert response.status_code == 422, response.text
    assert [f["field"] for f in response.json()["fields"]] == [field]


@pytest.mark.parametrize("path", ["cancel", "retry-failed"])
def test_posts_on_out_of_range_run_ids_are_422(api: TestClient, firm_a: Tenant, path: str) -> None:
    response = api.post(f"/api/v1/runs/{2**31}/{path}", headers=firm_a.headers)
    assert response.status_code == 422, response.text
    assert [f["field"] for f in response.json()["fields"]] == ["run_id"]


def test_the_largest_run_id_is_a_plain_404(api: TestClient, firm_a: Tenant) -> None:
    assert api.get(f"/api/v1/runs/{2**31 - 1}", headers=firm_a.headers).status_code == 404


def test_reserved_idempotency_key_in_the_header_is_refused(api: TestClient, firm_a: Tenant) -> None:
    response = api.post(
        "/api/v1/runs",
        json={"clients": "all", "modules": "all"},
        headers={**firm_a.headers, "Idempotency-Key": "retry-of-1"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["message"].startswith("Idempotency-Key:")


def test_healthz_shows_the_type_of_a_loop_error_not_its_text(
    api: TestClient, coordinator: Coordinator
) -> None:
    def tick() -> None:
        raise RuntimeError("password=hunter2 host=db.internal SELECT * FROM clients")

    loop = coordinator.loops[0]
    loop._tick = tick
    assert loop.run_once() is False
    body = api.get("/healthz").text
    assert "RuntimeError" in body and "hunter2" not in body and "db.internal" not in body
