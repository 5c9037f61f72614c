"""The coordinator answers /metrics on its API too, with the catalogue's series."""

from __future__ import annotations

from fastapi.testclient import TestClient

from syncbucket_coordinator.container import Coordinator


def test_metrics_on_the_api_after_a_metrics_tick(api: TestClient, coordinator: Coordinator) -> None:
    loop = next(loop for loop in coordinator.loops if loop.name == "metrics")
    assert loop.run_once()
    response = api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    body = response.text
    assert 'syncbucket_dispatcher_window_items{portal="traces"}' in body
    assert "syncbucket_runs_active " in body
    assert "/metrics" not in api.get("/api/v1/openapi.json").text
