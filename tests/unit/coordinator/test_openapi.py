from __future__ import annotations

from fastapi.testclient import TestClient


def test_openapi_lists_the_paths_and_the_bearer_scheme(api: TestClient) -> None:
    document = api.get("/api/v1/openapi.json").json()
    assert set(document["paths"]) >= {
        "/api/v1/runs",
        "/api/v1/runs/{run_id}",
        "/api/v1/runs/{run_id}/items",
        "/api/v1/runs/{run_id}/report.csv",
        "/api/v1/runs/{run_id}/retry-failed",
        "/api/v1/runs/{run_id}/cancel",
        "/api/v1/clients",
        "/healthz",
    }
    assert document["components"]["securitySchemes"]["firmToken"]["scheme"] == "bearer"
    post = document["paths"]["/api/v1/runs"]["post"]
    assert {"200", "201", "401", "422"} <= set(post["responses"])
    assert "RunSummary" in document["components"]["schemas"]


def test_docs_page_is_served_without_anything_from_another_site(api: TestClient) -> None:
    response = api.get("/api/v1/docs")
    assert response.status_code == 200 and "swagger" in response.text.lower()
    assert "https://" not in response.text and "http://" not in response.text
    assert api.get("/static/vendor/swagger-ui-bundle.js").status_code == 200


def test_healthz_needs_no_token(api: TestClient) -> None:
    response = api.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert set(body["loops"]) == {"dispatcher", "reaper", "scheduler", "metrics", "lease"}


def test_unknown_path_has_the_error_shape(api: TestClient) -> None:
    response = api.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json()["error"] == "not_found"
