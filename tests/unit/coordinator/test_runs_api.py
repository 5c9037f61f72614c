from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient

from syncbucket.db.session import SessionFactory
from tests.unit.coordinator.fixtures import Tenant
from tests.unit.coordinator.outcomes import finish_items


def start(api: TestClient, tenant: Tenant, body: dict[str, Any], **headers: str) -> Any:
    return api.post("/api/v1/runs", json=body, headers={**tenant.headers, **headers})


def test_post_run_creates_items_for_the_selection(api: TestClient, firm_a: Tenant) -> None:
    response = start(api, firm_a, {"clients": "all", "modules": ["return_summary"]})
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["source"] == "api" and run["status"] == "pending"
    assert run["total_items"] == 3 and run["counts"]["pending"] == 3
    assert run["by_module"]["return_summary"]["pending"] == 3
    assert run["requested_by"].startswith("api:sbk_")
    assert response.headers["Location"] == f"/api/v1/runs/{run['run_id']}"
    fetched = api.get(f"/api/v1/runs/{run['run_id']}", headers=firm_a.headers).json()
    assert fetched == run


def test_post_run_by_tans_and_by_ids(api: TestClient, firm_a: Tenant) -> None:
    by_tan = start(api, firm_a, {"clients": {"tans": [firm_a.tans[0].lower()]}, "modules": "all"})
    assert by_tan.status_code == 201, by_tan.text
    by_id = start(api, firm_a, {"clients": {"ids": list(firm_a.client_ids[:2])}, "modules": "all"})
    assert by_id.status_code == 201, by_id.text
    assert by_id.json()["total_items"] > by_tan.json()["total_items"] > 0


def test_same_idempotency_key_returns_the_same_run(api: TestClient, firm_a: Tenant) -> None:
    body = {"clients": "all", "modules": ["verify_ldc"], "idempotency_key": "nightly-1"}
    first = start(api, firm_a, body)
    again = start(api, firm_a, body)
    by_header = start(
        api,
        firm_a,
        {"clients": "all", "modules": ["verify_ldc"]},
        **{"Idempotency-Key": "nightly-1"},
    )
    assert (first.status_code, again.status_code, by_header.status_code) == (201, 200, 200)
    assert first.json()["run_id"] == again.json()["run_id"] == by_header.json()["run_id"]
    assert len(api.get("/api/v1/runs", headers=firm_a.headers).json()["runs"]) == 1


def test_idempotency_key_in_body_and_header_must_agree(api: TestClient, firm_a: Tenant) -> None:
    body = {"clients": "all", "modules": "all", "idempotency_key": "a"}
    response = start(api, firm_a, body, **{"Idempotency-Key": "b"})
    assert response.status_code == 422
    assert "idempotency_key" in response.json()["message"]


def test_list_runs_is_paginated_newest_first(api: TestClient, firm_a: Tenant) -> None:
    ids = [start(api, firm_a, {"clients": "all", "modules": "all"}).json()["run_id"] for _ in "abc"]
    first = api.get("/api/v1/runs?limit=2", headers=firm_a.headers).json()
    assert [r["run_id"] for r in first["runs"]] == ids[::-1][:2]
    before = first["next_before_id"]
    rest = api.get(f"/api/v1/runs?limit=2&before_id={before}", headers=firm_a.headers).json()
    assert [r["run_id"] for r in rest["runs"]] == [ids[0]] and rest["next_before_id"] is None


def test_items_are_paginated_and_filtered(api: TestClient, firm_a: Tenant) -> None:
    run_id = start(api, firm_a, {"clients": "all", "modules": "all"}).json()["run_id"]
    seen: list[int] = []
    url = f"/api/v1/runs/{run_id}/items?limit=4"
    while True:
        page = api.get(url, headers=firm_a.headers).json()
        seen += [item["item_id"] for item in page["items"]]
        if page["next_after_id"] is None:
            break
        url = f"/api/v1/runs/{run_id}/items?limit=4&after_id={page['next_after_id']}"
    total = api.get(f"/api/v1/runs/{run_id}", headers=firm_a.headers).json()["total_items"]
    assert len(seen) == len(set(seen)) == total and seen == sorted(seen)
    failed = api.get(f"/api/v1/runs/{run_id}/items?status=failed", headers=firm_a.headers)
    assert failed.json() == {"items": [], "next_after_id": None}
    bad = api.get(f"/api/v1/runs/{run_id}/items?status=broken", headers=firm_a.headers)
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "status"


def test_cancel_cancels_pending_items(api: TestClient, firm_a: Tenant) -> None:
    run_id = start(api, firm_a, {"clients": "all", "modules": ["return_summary"]}).json()["run_id"]
    response = api.post(f"/api/v1/runs/{run_id}/cancel", headers=firm_a.headers)
    assert response.status_code == 202
    run = response.json()
    assert run["status"] == "cancelled" and run["counts"]["cancelled"] == 3
    assert run["cancel_requested_at"] is not None


def test_report_csv_lists_failed_items(
    api: TestClient, firm_a: Tenant, sessions: SessionFactory
) -> None:
    run_id = start(api, firm_a, {"clients": "all", "modules": ["return_summary"]}).json()["run_id"]
    failing = firm_a.client_ids[0]
    finish_items(sessions, run_id, fails=lambda item: item.client_id == failing)
    response = api.get(f"/api/v1/runs/{run_id}/report.csv", headers=firm_a.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition == f'attachment; filename="run-{run_id}-exceptions.csv"'
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == [
        "client",
        "tan",
        "module",
        "portal",
        "error_code",
        "message",
        "attempts",
        "finished_at",
    ]
    assert [row[:7] for row in rows[1:]] == [
        [
            "Alpha client 0",
            firm_a.tans[0],
            "return_summary",
            "traces",
            "portal_error",
            "'=HYPERLINK(bad), portal said no",
            "3",
        ]
    ]
    assert rows[1][7].startswith("20")  # when it failed, ISO 8601
    summary = api.get(f"/api/v1/runs/{run_id}", headers=firm_a.headers).json()
    assert summary["status"] == "completed_with_errors" and summary["counts"]["failed"] == 1


def test_retry_failed_makes_a_run_of_the_failed_items(
    api: TestClient, firm_a: Tenant, sessions: SessionFactory
) -> None:
    run_id = start(api, firm_a, {"clients": "all", "modules": ["return_summary"]}).json()["run_id"]
    early = api.post(f"/api/v1/runs/{run_id}/retry-failed", headers=firm_a.headers)
    assert early.status_code == 409 and early.json()["error"] == "parent_not_finished"
    finish_items(sessions, run_id, fails=lambda item: item.client_id != firm_a.client_ids[0])
    response = api.post(f"/api/v1/runs/{run_id}/retry-failed", headers=firm_a.headers)
    assert response.status_code == 201, response.text
    retry = response.json()
    assert retry["source"] == "retry" and retry["parent_run_id"] == run_id
    assert retry["total_items"] == 2
    again = api.post(f"/api/v1/runs/{run_id}/retry-failed", headers=firm_a.headers)
    assert again.status_code == 200 and again.json()["run_id"] == retry["run_id"]


def test_retry_failed_refuses_when_nothing_failed(
    api: TestClient, firm_a: Tenant, sessions: SessionFactory
) -> None:
    run_id = start(api, firm_a, {"clients": "all", "modules": ["verify_ldc"]}).json()["run_id"]
    finish_items(sessions, run_id, fails=lambda _item: False)
    response = api.post(f"/api/v1/runs/{run_id}/retry-failed", headers=firm_a.headers)
    assert response.status_code == 422
    assert response.json()["error"] == "nothing_failed" and response.json()["message"]


def test_unknown_run_is_404(api: TestClient, firm_a: Tenant) -> None:
    for method, path in [
        ("GET", "/api/v1/runs/999"),
        ("GET", "/api/v1/runs/999/items"),
        ("GET", "/api/v1/runs/999/report.csv"),
        ("POST", "/api/v1/runs/999/cancel"),
        ("POST", "/api/v1/runs/999/retry-failed"),
    ]:
        response = api.request(method, path, headers=firm_a.headers)
        assert response.status_code == 404, path
        assert response.json() == {"error": "run_not_found", "message": "run 999 not found"}
