from __future__ import annotations

from fastapi.testclient import TestClient

from syncbucket.db.session import SessionFactory
from tests.unit.coordinator.fixtures import Tenant
from tests.unit.coordinator.outcomes import finish_items


def test_another_firms_run_is_404_everywhere(
    api: TestClient, firm_a: Tenant, firm_b: Tenant, sessions: SessionFactory
) -> None:
    body = {"clients": "all", "modules": ["return_summary"]}
    run_id = api.post("/api/v1/runs", json=body, headers=firm_a.headers).json()["run_id"]
    finish_items(sessions, run_id, fails=lambda _item: True)
    for method, suffix in [
        ("GET", ""),
        ("GET", "/items"),
        ("GET", "/report.csv"),
        ("POST", "/cancel"),
        ("POST", "/retry-failed"),
    ]:
        response = api.request(method, f"/api/v1/runs/{run_id}{suffix}", headers=firm_b.headers)
        assert response.status_code == 404, suffix
    assert api.get("/api/v1/runs", headers=firm_b.headers).json()["runs"] == []
    still = api.get(f"/api/v1/runs/{run_id}", headers=firm_a.headers).json()
    assert still["status"] == "completed_with_errors"
    assert api.get("/api/v1/runs", headers=firm_a.headers).json()["runs"][0]["run_id"] == run_id


def test_a_firm_cannot_select_another_firms_clients(
    api: TestClient, firm_a: Tenant, firm_b: Tenant
) -> None:
    by_tan = {"clients": {"tans": list(firm_b.tans)}, "modules": "all"}
    response = api.post("/api/v1/runs", json=by_tan, headers=firm_a.headers)
    assert response.status_code == 422 and firm_b.tans[0] in response.json()["message"]
    by_id = {"clients": {"ids": list(firm_b.client_ids)}, "modules": "all"}
    response = api.post("/api/v1/runs", json=by_id, headers=firm_a.headers)
    assert response.status_code == 422
