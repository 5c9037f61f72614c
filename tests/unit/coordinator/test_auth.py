from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from syncbucket.db.api_tokens import revoke_token
from syncbucket.db.session import SessionFactory, unit_of_work
from tests.unit.coordinator.fixtures import Tenant

PROTECTED = ["/api/v1/runs", "/api/v1/runs/1", "/api/v1/runs/1/items", "/api/v1/clients"]


@pytest.mark.parametrize("path", PROTECTED)
def test_no_token_is_401_with_www_authenticate(api: TestClient, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"] == "unauthorized"
    assert "firms create" in response.json()["message"]


@pytest.mark.parametrize(
    "header", ["Bearer sbk_not-a-real-token", "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer "]
)
def test_bad_token_is_401(api: TestClient, firm_a: Tenant, header: str) -> None:
    response = api.get("/api/v1/runs", headers={"Authorization": header})
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers


def test_revoked_token_is_401(api: TestClient, firm_a: Tenant, sessions: SessionFactory) -> None:
    assert api.get("/api/v1/clients", headers=firm_a.headers).status_code == 200
    with unit_of_work(sessions) as session:
        assert revoke_token(session, firm_a.token)
    response = api.get("/api/v1/clients", headers=firm_a.headers)
    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_token",
        "message": "the bearer token is unknown or revoked",
    }
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_post_without_token_is_401_before_validation(api: TestClient) -> None:
    assert api.post("/api/v1/runs", json={"clients": 1}).status_code == 401
    assert api.post("/api/v1/runs/1/cancel").status_code == 401
