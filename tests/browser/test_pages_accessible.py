"""The pages not on the main path pass axe-core too, and their screenshots are made."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from syncbucket.domain.roles import Role
from tests.browser.conftest import Visit
from tests.browser.support import assert_accessible, shot

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_client_pages_admin_pages_and_the_password_page(visit: Visit) -> None:
    page = visit.page
    visit.sign_in(Role.ADMIN)
    page.get_by_role("link", name="Aditya Traders Pvt Ltd #1").click()
    expect(page.get_by_role("heading", name="Aditya Traders Pvt Ltd #1", level=1)).to_be_visible()
    shot(page, "client")
    assert_accessible(page, "client page")
    page.get_by_role("button", name="Edit client and credentials").click()
    expect(page.get_by_label("TRACES password")).to_have_value("")
    shot(page, "client-edit")
    assert_accessible(page, "client edit")
    page.get_by_label("PAN").fill("NOT A PAN")
    page.get_by_role("button", name="Save client").click()
    expect(page.get_by_role("alert")).to_contain_text("pan:")
    assert_accessible(page, "client edit with an error")
    visit.go("/admin/users")
    page.get_by_label("E-mail address").fill("new.person@demo-firm.example")
    page.get_by_label("Role", exact=True).select_option("operator")
    page.get_by_role("button", name="Add user").click()
    expect(page.locator("#one-time-password")).to_have_text(re.compile(r"^\S{16}$"))
    visit.site.secrets.add(page.locator("#one-time-password").inner_text())
    shot(page, "admin-users")
    assert_accessible(page, "admin users")
    visit.go("/admin/tokens")
    page.get_by_label("What it is for").fill("practice software")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#new-token")).to_contain_text("sbk_")
    visit.seen.bodies.clear()  # the page that shows the new token once is meant to show it
    page.get_by_role("button", name=re.compile("^Revoke")).first.click()
    expect(page.get_by_role("status")).to_contain_text("Token revoked")
    shot(page, "admin-tokens")
    assert_accessible(page, "admin tokens")
    visit.go("/account/password")
    assert_accessible(page, "password page")
