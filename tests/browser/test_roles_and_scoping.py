"""Who may do what, seen from a browser: a viewer, a forged form, another firm, no session."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from syncbucket.domain.roles import Role
from tests.browser.conftest import Visit
from tests.browser.support import assert_accessible, shot, text_of

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def csrf_token(visit: Visit) -> str:
    token = visit.page.locator('input[name="csrf_token"]').first.get_attribute("value")
    assert token
    return token


def test_a_viewer_has_no_start_or_cancel_and_the_post_is_refused(visit: Visit) -> None:
    page, site = visit.page, visit.site
    with site.api() as api:
        run_id = api.post("/runs", json={"clients": "all", "modules": ["verify_ldc"]}).json()[
            "run_id"
        ]
        api.post(f"/runs/{run_id}/cancel")
    visit.sign_in(Role.VIEWER)
    visit.go("/bucket")
    expect(page.get_by_role("button", name="Start Sync")).to_have_count(0)
    expect(page.get_by_text("can read but not start syncs")).to_be_visible()
    token = csrf_token(visit)
    refused = page.request.post(
        f"{site.url}/bucket/start",
        form={"csrf_token": token, "select_all": "1", "all_modules": "1"},
        max_redirects=0,
    )
    assert refused.status == 403 and "Your role (viewer) cannot" in refused.text()
    visit.go(f"/runs/{run_id}")
    expect(page.get_by_text("Cancel sync")).to_have_count(0)
    expect(page.get_by_role("button", name="Re-sync failed")).to_have_count(0)
    cancel = page.request.post(f"{site.url}/runs/{run_id}/cancel", form={"csrf_token": token})
    assert cancel.status == 403
    visit.go("/admin/users")
    assert "Your role (viewer) cannot manage users" in text_of(page)


def test_a_post_without_the_csrf_token_is_refused(visit: Visit) -> None:
    page, site = visit.page, visit.site
    visit.sign_in(Role.OPERATOR)
    with site.api() as api:
        before = len(api.get("/runs", params={"limit": 200}).json()["runs"])
    for form in (
        {"select_all": "1", "all_modules": "1"},
        {"csrf_token": "forged", "select_all": "1"},
    ):
        response = page.request.post(f"{site.url}/bucket/start", form=form, max_redirects=0)
        assert response.status == 403 and "Form expired" in response.text()
    with site.api() as api:
        assert len(api.get("/runs", params={"limit": 200}).json()["runs"]) == before


def test_another_firms_run_and_client_answer_the_same_404_as_missing_ones(visit: Visit) -> None:
    page, site = visit.page, visit.site
    visit.sign_in(Role.ADMIN)
    visit.go("/runs/2000000000")
    missing = text_of(page)
    assert "Not found" in missing
    shot(page, "not-found")
    assert_accessible(page, "not found page")
    for path in (
        f"/runs/{site.other_run}",
        f"/clients/{site.other_client}",
        f"/clients/{site.other_client}/edit",
    ):
        response = page.goto(f"{site.url}{path}")
        assert response is not None and response.status == 404, path
        assert text_of(page) == missing, path


def test_a_signed_out_request_lands_on_the_sign_in_page(visit: Visit) -> None:
    page, site = visit.page, visit.site
    visit.go("/runs")
    page.wait_for_url(re.compile(r".*/signin\?next=/runs"))
    shot(page, "sign-in")
    assert_accessible(page, "sign-in page")
    page.get_by_label("E-mail address").fill(site.emails[Role.VIEWER])
    page.get_by_label("Password").fill("not my password at all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(
        "The e-mail address or the password is not right."
    )
    assert_accessible(page, "sign-in page with an error")
    visit.sign_in(Role.VIEWER)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/signin")
    visit.go("/clients")
    page.wait_for_url(re.compile(r".*/signin\?next=/clients"))
