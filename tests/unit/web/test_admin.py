"""Admin pages: users (create, role, disable, reset) and API tokens (create once, revoke)."""

from __future__ import annotations

import re

from syncbucket.accounts.users import get_user
from syncbucket.db.api_tokens import find_firm_by_token
from syncbucket.db.session import unit_of_work
from syncbucket.domain.roles import Role
from tests.unit.web.support import World, text_of


def test_a_new_token_is_shown_once_and_revoking_it_stops_it(world: World) -> None:
    admin = world.browser(Role.ADMIN)
    admin.get("/admin/tokens")
    made = admin.post("/admin/tokens", {"label": "practice software"})
    assert made.status_code == 200
    token = re.search(r'id="new-token">(sbk_[^<]+)<', made.text)
    assert token is not None
    again = admin.get("/admin/tokens")
    assert token.group(1) not in again.text and "practice software" in text_of(again)
    assert (
        world.app_client.get(
            "/api/v1/runs", headers={"Authorization": f"Bearer {token.group(1)}"}
        ).status_code
        == 200
    )
    token_id = re.search(r'action="/admin/tokens/(\d+)/revoke"', again.text)
    assert token_id is not None
    revoked = admin.post(f"/admin/tokens/{token_id.group(1)}/revoke")
    assert revoked.status_code == 200, text_of(revoked)[:300]
    assert "Token revoked" in text_of(revoked)
    with unit_of_work(world.sessions) as session:
        assert find_firm_by_token(session, token.group(1)) is None
    other = world.browser(Role.ADMIN, firm=world.b)
    assert other.post(f"/admin/tokens/{token_id.group(1)}/revoke").status_code == 404


def test_users_are_created_with_a_one_time_password_and_managed(world: World) -> None:
    admin = world.browser(Role.ADMIN)
    admin.get("/admin/users")
    made = admin.post("/admin/users", {"email": "New.Person@Alpha.example", "role": "operator"})
    secret = re.search(r'id="one-time-password">([^<]+)<', made.text)
    assert secret is not None and len(secret.group(1)) == 16
    assert "new.person@alpha.example" in text_of(made)
    assert secret.group(1) not in admin.get("/admin/users").text
    duplicate = admin.post("/admin/users", {"email": "new.person@alpha.example", "role": "viewer"})
    assert duplicate.status_code == 422 and "already exists" in text_of(duplicate)
    page = admin.get("/admin/users").text
    user_id = re.search(r'action="/admin/users/(\d+)/disable"', page)
    assert user_id is not None
    newcomer = world.browser(role=None)
    assert newcomer.sign_in("new.person@alpha.example", secret.group(1)).status_code == 303
    assert admin.post(f"/admin/users/{user_id.group(1)}/disable").status_code == 200
    assert newcomer.get("/clients", follow_redirects=False).status_code == 303  # signed out
    admin_id = admin_user_id(world)
    refused = admin.post(f"/admin/users/{admin_id}/disable")
    assert refused.status_code == 422 and "your own account" in text_of(refused)


def admin_user_id(world: World) -> int:
    with unit_of_work(world.sessions) as session:
        return get_user(session, world.a.users[Role.ADMIN]).id
