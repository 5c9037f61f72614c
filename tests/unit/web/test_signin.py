"""Signing in and out: cookies, one answer for every failure, the throttle, expiry."""

from __future__ import annotations

from syncbucket.accounts.users import get_user, reset_password
from syncbucket.db.session import unit_of_work
from syncbucket.domain.roles import Role
from tests.unit.web.support import PASSWORD, World, text_of


def test_a_signed_out_request_goes_to_the_sign_in_page(world: World) -> None:
    browser = world.browser(role=None)
    response = browser.get("/clients?active=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/clients%3Factive%3D1"  # filter kept
    htmx = browser.get("/bucket", headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.status_code == 200 and htmx.headers["HX-Redirect"].startswith("/signin")
    page = browser.get("/runs/1")
    assert "Sign in" in text_of(page) and page.url.path == "/signin"


def test_signing_in_sets_a_strict_session_cookie(world: World) -> None:
    browser = world.browser(role=None)
    browser.get("/signin")
    response = browser.post(
        "/signin", {"email": world.a.users[Role.VIEWER], "password": PASSWORD, "next": "/runs"}
    )
    assert response.status_code == 303 and response.headers["location"] == "/runs"
    cookie = next(
        value
        for key, value in response.headers.multi_items()
        if key == "set-cookie" and value.startswith("sb_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert "Alpha & Co" in text_of(browser.get("/runs"))


def test_unknown_user_wrong_password_and_disabled_user_get_the_same_answer(world: World) -> None:
    with unit_of_work(world.sessions) as session:
        get_user(session, world.a.users[Role.OPERATOR]).disabled_at = world.clock()
    answers = []
    for email, password in (
        ("nobody@nowhere.example", PASSWORD),
        (world.a.users[Role.VIEWER], "not the password at all"),
        (world.a.users[Role.OPERATOR], PASSWORD),
    ):
        browser = world.browser(role=None)
        response = browser.sign_in(email, password)
        assert response.status_code == 401
        answers.append(response.text.split('role="alert"')[1].split("</p>")[0])
    assert answers[0] == answers[1] == answers[2]
    assert "not right" in answers[0]


def test_repeated_failures_are_slowed_down_even_with_the_right_password(world: World) -> None:
    email = world.a.users[Role.VIEWER]
    browser = world.browser(role=None)
    for _ in range(5):
        assert browser.sign_in(email, "wrong password, again").status_code == 401
    refused = browser.sign_in(email, PASSWORD)
    assert refused.status_code == 401 and "Too many failed sign-ins" in text_of(refused)
    assert int(refused.headers["Retry-After"]) >= 1
    stranger = world.browser(role=None).sign_in("ghost@nowhere.example", "x" * 12)
    for _ in range(5):
        stranger = world.browser(role=None).sign_in("ghost@nowhere.example", "x" * 12)
    assert "Too many failed sign-ins" in text_of(stranger)  # unknown e-mails alike
    world.clock.advance(seconds=3)
    assert browser.sign_in(email, PASSWORD).status_code == 303


def test_the_sign_in_form_needs_its_csrf_token(world: World) -> None:
    browser = world.browser(role=None)
    browser.get("/signin")
    response = browser.client.post(
        "/signin",
        data={"email": world.a.users[Role.ADMIN], "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_next_never_leaves_the_site(world: World) -> None:
    for target in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
        browser = world.browser(role=None)
        browser.get("/signin")
        response = browser.post(
            "/signin", {"email": world.a.users[Role.ADMIN], "password": PASSWORD, "next": target}
        )
        assert response.headers["location"] == "/clients"


def test_signing_out_ends_the_session(world: World) -> None:
    browser = world.browser(Role.VIEWER)
    cookie = browser.client.cookies.get("sb_session")
    assert browser.post("/signout").status_code == 303
    browser.client.cookies.set("sb_session", cookie or "")
    assert browser.get("/clients", follow_redirects=False).status_code == 303


def test_sessions_expire_when_idle_and_after_their_lifetime(world: World) -> None:
    browser = world.browser(Role.VIEWER)
    world.clock.advance(minutes=29)
    assert browser.get("/clients", follow_redirects=False).status_code == 200
    world.clock.advance(minutes=31)
    assert browser.get("/clients", follow_redirects=False).status_code == 303
    active = world.browser(Role.VIEWER)
    for _ in range(26):  # busy all day: 12 h absolute lifetime still ends it
        world.clock.advance(minutes=29)
        status = active.get("/runs", follow_redirects=False).status_code
    assert status == 303


def test_a_one_time_password_must_be_replaced_before_anything_else(world: World) -> None:
    email = world.a.users[Role.OPERATOR]
    with unit_of_work(world.sessions) as session:
        one_time = reset_password(session, get_user(session, email)).one_time_password
    assert one_time is not None
    browser = world.browser(role=None)
    assert browser.sign_in(email, one_time).headers["location"] == "/account/password"
    assert (
        browser.get("/clients", follow_redirects=False).headers["location"] == "/account/password"
    )
    browser.get("/account/password")
    mismatch = browser.post(
        "/account/password", {"current": one_time, "new": "my own new password", "repeat": "typo"}
    )
    assert mismatch.status_code == 422 and "differ" in text_of(mismatch)
    done = browser.post(
        "/account/password",
        {"current": one_time, "new": "my own new password", "repeat": "my own new password"},
    )
    assert done.status_code == 303
    assert "Your password is changed" in text_of(browser.get(done.headers["location"]))
    assert world.browser(role=None).sign_in(email, "my own new password").status_code == 303


def test_a_page_polling_its_progress_does_not_keep_the_session_alive(world: World) -> None:
    from syncbucket.domain.portals import ModuleKey
    from syncbucket.pipeline.requests import RunRequest
    from syncbucket.pipeline.runs import create_run

    with unit_of_work(world.sessions) as session:
        run_id = create_run(
            session,
            RunRequest(firm_id=world.a.id, modules=[ModuleKey.VERIFY_LDC]),
            now=world.clock(),
        ).run_id
    browser = world.browser(Role.VIEWER)
    for _ in range(4):  # 40 minutes of a run page polling, nobody at the keyboard
        world.clock.advance(minutes=10)
        browser.get(f"/runs/{run_id}/progress", follow_redirects=False)
    assert browser.get("/clients", follow_redirects=False).status_code == 303
