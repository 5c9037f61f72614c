"""Roles, CSRF and firm scoping: every page and action answers only to whom it should."""

from __future__ import annotations

import pytest

from syncbucket.db.session import unit_of_work
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.roles import Role
from syncbucket.pipeline.requests import RunRequest
from syncbucket.pipeline.runs import create_run
from tests.unit.web.support import SECRET_PASSWORD, World, text_of


def start_run(world: World, firm_id: int) -> int:
    with unit_of_work(world.sessions) as session:
        request = RunRequest(firm_id=firm_id, modules=[ModuleKey.VERIFY_LDC])
        return create_run(session, request, now=world.clock()).run_id


def bucket_form(browser_csrf: str) -> dict[str, object]:
    return {"select_all": "1", "all_modules": "1", "idempotency_key": "bucket-test-1"}


def test_a_viewer_sees_no_start_or_cancel_and_is_refused_when_posting(world: World) -> None:
    run_id = start_run(world, world.a.id)
    viewer = world.browser(Role.VIEWER)
    bucket = viewer.get("/bucket")
    assert bucket.status_code == 200
    assert 'id="start"' not in bucket.text and "can read but not start" in text_of(bucket)
    run_page = viewer.get(f"/runs/{run_id}")
    assert "Cancel sync" not in run_page.text
    for path, data in (
        ("/bucket/start", bucket_form(viewer.csrf)),
        (f"/runs/{run_id}/cancel", {}),
        (f"/runs/{run_id}/retry-failed", {}),
    ):
        refused = viewer.post(path, data)
        assert refused.status_code == 403, path
        assert "Your role (viewer) cannot" in text_of(refused)
    with unit_of_work(world.sessions) as session:
        from syncbucket.db.runs import Run

        assert session.get(Run, run_id).cancel_requested_at is None  # type: ignore[union-attr]


def test_an_operator_runs_syncs_but_manages_nothing(world: World) -> None:
    operator = world.browser(Role.OPERATOR)
    assert 'id="start"' in operator.get("/bucket").text
    for path in (
        "/admin/users",
        "/admin/tokens",
        "/clients/import",
        f"/clients/{world.a.client_ids[0]}/edit",
    ):
        assert operator.get(path).status_code == 403, path
    assert "Admin" not in text_of(operator.get("/clients")).split("Client Master")[0]


@pytest.mark.parametrize(
    "path",
    [
        "/bucket/start",
        "/runs/{run}/cancel",
        "/runs/{run}/retry-failed",
        "/admin/users",
        "/admin/tokens",
        "/clients/{client}/edit",
        "/signout",
        "/bucket/estimate",
    ],
)
def test_every_state_changing_post_needs_the_csrf_token(world: World, path: str) -> None:
    admin = world.browser(Role.ADMIN)
    run_id = start_run(world, world.a.id)
    target = path.format(run=run_id, client=world.a.client_ids[0])
    response = admin.client.post(target, data={"name": "x"}, follow_redirects=False)
    assert response.status_code == 403
    assert "Form expired" in text_of(response)
    forged = admin.client.post(target, data={"csrf_token": "not-the-token"}, follow_redirects=False)
    assert forged.status_code == 403


def test_the_csrf_header_htmx_sends_is_accepted(world: World) -> None:
    operator = world.browser(Role.OPERATOR)
    response = operator.client.post(
        "/bucket/estimate",
        data={"select_all": "1", "sync_module": "verify_ldc"},
        headers={"X-CSRF-Token": operator.csrf},
    )
    assert response.status_code == 200 and "item" in response.text


def test_another_firms_run_and_client_look_like_missing_ones(world: World) -> None:
    theirs = start_run(world, world.b.id)
    browser = world.browser(Role.ADMIN)
    missing = browser.get("/runs/999999")
    for path in (
        f"/runs/{theirs}",
        f"/runs/{theirs}/progress",
        f"/runs/{theirs}/after",
        f"/runs/{theirs}/report.csv",
        f"/runs/{theirs}/events",
        f"/clients/{world.b.client_ids[0]}",
        f"/clients/{world.b.client_ids[0]}/edit",
    ):
        response = browser.get(path)
        assert response.status_code == 404, path
        assert text_of(response) == text_of(missing), path
    for path in (f"/runs/{theirs}/cancel", f"/clients/{world.b.client_ids[0]}/edit"):
        assert browser.post(path, {"name": "Stolen", "pan": "AAAPA0001A"}).status_code == 404
    export = browser.get(f"/records.csv?export=verify_ldc&client_id={world.b.client_ids[0]}")
    assert export.status_code == 200 and len(export.text.splitlines()) == 1  # header only
    clients = text_of(browser.get("/clients"))
    assert world.b.tans[0] not in clients and world.a.tans[0] in clients


def test_no_page_ever_shows_a_portal_password(world: World) -> None:
    admin = world.browser(Role.ADMIN)
    client_id = world.a.client_ids[0]
    run_id = start_run(world, world.a.id)
    for path in (
        "/clients",
        f"/clients/{client_id}",
        f"/clients/{client_id}/edit",
        "/bucket",
        f"/runs/{run_id}",
        "/runs",
        "/records.csv?export=verify_ldc",
    ):
        body = admin.get(path).text
        assert SECRET_PASSWORD not in body, path
        assert world.a.tans[0] + "\\u0000" not in body


def test_a_body_is_limited_by_the_bytes_that_arrive_not_by_its_header(world: World) -> None:
    anonymous = world.browser(role=None)

    def chunks(total: int):  # type: ignore[no-untyped-def]
        block = b"x" * 65536
        for _ in range(total // len(block)):
            yield block

    huge = anonymous.client.post(
        "/signin",
        content=chunks(1024 * 1024),  # chunked: no Content-Length to check
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 413
    operator = world.browser(Role.OPERATOR)
    upload = operator.client.post(
        "/bucket/estimate",
        content=chunks(8 * 1024 * 1024),
        headers={"Content-Type": "multipart/form-data; boundary=X", "X-CSRF-Token": operator.csrf},
    )
    assert upload.status_code == 413 and "larger than 5 MB" in text_of(upload)
