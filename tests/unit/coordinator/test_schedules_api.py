"""``/api/v1/schedules``: add, list, pause, resume, remove and the fire history, per firm."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from syncbucket.db.session import SessionFactory
from syncbucket.schedules.firing import fire_due_schedules
from tests.unit.coordinator.fixtures import Tenant

NIGHTLY: dict[str, Any] = {
    "name": "nightly",
    "cron": "0 2 * * *",
    "clients": "all",
    "modules": "all",
}


def add(api: TestClient, tenant: Tenant, **changes: Any) -> Any:
    return api.post("/api/v1/schedules", json={**NIGHTLY, **changes}, headers=tenant.headers)


def test_a_schedule_is_created_listed_and_read(api: TestClient, firm_a: Tenant) -> None:
    created = add(
        api,
        firm_a,
        name="failed LDC",
        cron="30 7 * * 1-5",
        clients={"filter": {"failed_last_time": True, "module": "verify_ldc"}},
        modules=["verify_ldc"],
        priority=5,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["Location"] == f"/api/v1/schedules/{body['id']}"
    assert body["name"] == "failed LDC" and body["time_zone"] == "Asia/Kolkata"
    assert body["clients"] == {"filter": {"failed_last_time": True, "module": "verify_ldc"}}
    assert body["modules"] == ["verify_ldc"] and body["priority"] == 5
    assert body["active"] is True and body["recent_fires"] == []
    assert body["created_by"].startswith("api:sbk_")
    local = datetime.fromisoformat(body["next_fire_local"])
    assert (local.hour, local.minute, local.utcoffset()) == (7, 30, timedelta(hours=5, minutes=30))
    assert local.weekday() < 5
    assert datetime.fromisoformat(body["next_fire_at"]) == local
    assert add(api, firm_a).status_code == 201
    listed = api.get("/api/v1/schedules", headers=firm_a.headers).json()["schedules"]
    assert [s["name"] for s in listed] == ["failed LDC", "nightly"]
    one = api.get(f"/api/v1/schedules/{body['id']}", headers=firm_a.headers)
    assert one.status_code == 200 and one.json() == body


def test_pause_resume_and_remove(api: TestClient, firm_a: Tenant) -> None:
    made = add(api, firm_a).json()
    url = f"/api/v1/schedules/{made['id']}"
    paused = api.post(f"{url}/pause", headers=firm_a.headers)
    assert paused.status_code == 200
    assert paused.json()["active"] is False and paused.json()["next_fire_at"] is None
    resumed = api.post(f"{url}/resume", headers=firm_a.headers).json()
    assert resumed["active"] is True and resumed["next_fire_at"] == made["next_fire_at"]
    removed = api.delete(url, headers=firm_a.headers)
    assert removed.status_code == 204 and removed.content == b""
    gone = api.get(url, headers=firm_a.headers)
    assert gone.status_code == 404 and gone.json()["error"] == "schedule_not_found"


def test_a_paused_schedule_can_be_created(api: TestClient, firm_a: Tenant) -> None:
    made = add(api, firm_a, active=False).json()
    assert made["active"] is False and made["next_fire_at"] is None


def test_the_fires_of_a_schedule(api: TestClient, firm_a: Tenant, sessions: SessionFactory) -> None:
    made = add(api, firm_a, cron="* * * * *").json()
    due = datetime.fromisoformat(made["next_fire_at"])
    report = fire_due_schedules(sessions, due, grace=timedelta(hours=1))
    (run_id,) = report.run_ids
    fires = api.get(f"/api/v1/schedules/{made['id']}/fires", headers=firm_a.headers)
    assert fires.status_code == 200
    assert fires.json()["next_before_id"] is None
    (only,) = fires.json()["fires"]
    assert (only["outcome"], only["run_id"], only["reason"]) == ("started", run_id, None)
    assert datetime.fromisoformat(only["fire_time"]) == due
    run = api.get(f"/api/v1/runs/{run_id}", headers=firm_a.headers).json()
    assert run["source"] == "schedule" and run["requested_by"] == "schedule:nightly"
    again = api.get(f"/api/v1/schedules/{made['id']}", headers=firm_a.headers).json()
    assert again["last_run_id"] == run_id and again["recent_fires"] == [only]


def test_another_firms_schedule_answers_like_a_missing_one(
    api: TestClient, firm_a: Tenant, firm_b: Tenant
) -> None:
    theirs = add(api, firm_b).json()
    missing = api.get("/api/v1/schedules/999999", headers=firm_a.headers)
    url = f"/api/v1/schedules/{theirs['id']}"
    for response in (
        api.get(url, headers=firm_a.headers),
        api.get(f"{url}/fires", headers=firm_a.headers),
        api.post(f"{url}/pause", headers=firm_a.headers),
        api.post(f"{url}/resume", headers=firm_a.headers),
        api.delete(url, headers=firm_a.headers),
    ):
        assert response.status_code == 404
        assert response.json()["error"] == missing.json()["error"] == "schedule_not_found"
    assert api.get("/api/v1/schedules", headers=firm_a.headers).json() == {"schedules": []}
    assert api.get(url, headers=firm_b.headers).json()["active"] is True


def test_names_are_unique_per_firm(api: TestClient, firm_a: Tenant, firm_b: Tenant) -> None:
    assert add(api, firm_a).status_code == 201
    taken = add(api, firm_a)
    assert taken.status_code == 409 and taken.json()["error"] == "schedule_exists"
    assert "'nightly' already exists" in taken.json()["message"]
    assert add(api, firm_b).status_code == 201


def test_no_token_no_schedules(api: TestClient) -> None:
    assert api.get("/api/v1/schedules").status_code == 401
    assert api.post("/api/v1/schedules", json=NIGHTLY).status_code == 401


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"cron": "0 2 * *"}, "cron", "expected 5 fields"),
        ({"cron": "0 25 * * *"}, "cron", "is not a valid cron expression"),
        ({"cron": "0 0 31 2 *"}, "cron", "never fires"),
        ({"cron": ""}, "cron", "at least 1 character"),
        ({"time_zone": "Asia/Bombay-ish"}, "time_zone", "unknown time zone"),
        ({"modules": ["challans"]}, "modules", "unknown module(s) challans"),
        ({"modules": "some"}, "modules", '"all"'),
        ({"clients": "everyone"}, "clients", 'expected "all" or {"filter": {...}}'),
        (
            {"clients": {"tans": ["DELA00001A"]}},
            "clients.filter,clients.tans",
            "clients.filter: Field required; clients.tans: Extra inputs are not permitted",
        ),
        ({"clients": {"filter": {"colour": 1}}}, "clients.filter.colour", "unknown filter"),
        (
            {"clients": {"filter": {"not_synced_days": 0}}},
            "clients.filter.not_synced_days",
            "1 to 3650",
        ),
        ({"priority": 11}, "priority", "10"),
        ({"name": ""}, "name", "at least 1 character"),
        ({"name": "  "}, "name", "give the schedule a name"),
        ({"every": "day"}, "every", "not permitted"),
    ],
)
def test_invalid_schedules_name_the_field(
    api: TestClient, firm_a: Tenant, changes: dict[str, Any], field: str, words: str
) -> None:
    response = add(api, firm_a, **changes)
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["error"] == "invalid_request"
    assert [f["field"] for f in error["fields"]] == field.split(","), error
    assert words in error["message"] and error["message"].startswith(f"{field.split(',')[0]}: ")


def test_missing_fields_are_named(api: TestClient, firm_a: Tenant) -> None:
    response = api.post("/api/v1/schedules", json={"name": "x"}, headers=firm_a.headers)
    assert response.status_code == 422
    assert {f["field"] for f in response.json()["fields"]} == {"cron", "clients", "modules"}


@pytest.mark.parametrize("url", [f"/api/v1/schedules/{2**31}", "/api/v1/schedules/0/fires"])
def test_ids_out_of_range_are_422(api: TestClient, firm_a: Tenant, url: str) -> None:
    response = api.get(url, headers=firm_a.headers)
    assert response.status_code == 422
    assert [f["field"] for f in response.json()["fields"]] == ["schedule_id"]


def test_the_openapi_document_describes_the_schedules(api: TestClient) -> None:
    document = api.get("/api/v1/openapi.json").json()
    paths = document["paths"]
    assert {
        "/api/v1/schedules",
        "/api/v1/schedules/{schedule_id}",
        "/api/v1/schedules/{schedule_id}/pause",
        "/api/v1/schedules/{schedule_id}/resume",
        "/api/v1/schedules/{schedule_id}/fires",
    } <= set(paths)
    assert set(paths["/api/v1/schedules/{schedule_id}"]) == {"get", "delete"}
    post = paths["/api/v1/schedules"]["post"]
    assert {"201", "401", "409", "422"} <= set(post["responses"])
    assert "404" in paths["/api/v1/schedules/{schedule_id}/pause"]["post"]["responses"]
    schemas = document["components"]["schemas"]
    assert schemas["CreateScheduleRequest"]["examples"][0]["cron"] == "0 2 * * *"
    assert {"ScheduleView", "FireView", "FirePage", "ScheduleList"} <= set(schemas)
    assert schemas["ScheduleView"]["properties"]["cron"]["examples"] == ["0 2 * * *"]
