"""Sign in, sign out, and choose a password (required after a one-time password)."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from syncbucket.accounts.errors import AccountError
from syncbucket.accounts.signin import Refused, sign_in
from syncbucket.accounts.users import change_password, end_sessions
from syncbucket.accounts.web_sessions import close_session, csrf_matches, open_session
from syncbucket.db.session import unit_of_work
from syncbucket.db.users import User
from syncbucket_coordinator.web.forms import text
from syncbucket_coordinator.web.identity import (
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    BadCsrf,
    CheckedForm,
    Reader,
    SigninForm,
    Web,
    set_cookie,
)
from syncbucket_coordinator.web.pages import show

router = APIRouter(include_in_schema=False)
MAX_FIELD = 300
HOME = "/clients"


def safe_next(target: str) -> str:
    """Only a path on this site: never ``//evil.example``, a full URL or a backslash trick."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target[:500]
    return HOME


def _form_page(
    request: Request,
    *,
    message: str = "",
    email: str = "",
    next_path: str = HOME,
    status: int = 200,
) -> HTMLResponse:
    token = request.cookies.get(SIGNIN_COOKIE) or secrets.token_urlsafe(24)
    response = show(
        request,
        "signin.html",
        user=None,
        title="Sign in",
        message=message,
        email=email,
        next=next_path,
        csrf_token=token,
        status=status,
    )
    set_cookie(response, request, SIGNIN_COOKIE, token)
    return response


@router.get("/", include_in_schema=False)
def home() -> Response:
    return RedirectResponse(HOME, status_code=303)


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request, next: str = HOME) -> HTMLResponse:
    return _form_page(request, next_path=safe_next(next))


@router.post("/signin")
def signin(request: Request, context: Web, form: SigninForm) -> Response:
    if not csrf_matches(request.cookies.get(SIGNIN_COOKIE, ""), text(form, "csrf_token")):
        raise BadCsrf
    email, password = text(form, "email")[:MAX_FIELD], text(form, "password")[:MAX_FIELD]
    next_path = safe_next(text(form, "next") or HOME)
    address = request.client.host if request.client else "unknown"
    cookie: str | None = None
    with unit_of_work(context.sessions) as session:
        result = sign_in(session, email, password, address, context.now(), context.throttle)
        if not isinstance(result, Refused):
            cookie = open_session(session, result.user, context.now()).cookie_value
            if result.user.must_change_password:
                next_path = "/account/password"
    if isinstance(result, Refused):
        response = _form_page(
            request, message=result.message, email=email, next_path=next_path, status=401
        )
        if result.retry_after_seconds:
            response.headers["Retry-After"] = str(result.retry_after_seconds)
        return response
    assert cookie is not None
    redirect = RedirectResponse(next_path, status_code=303)
    set_cookie(redirect, request, SESSION_COOKIE, cookie)
    redirect.delete_cookie(SIGNIN_COOKIE, path="/")
    return redirect


@router.post("/signout")
def signout(request: Request, context: Web, _form: CheckedForm) -> Response:
    with unit_of_work(context.sessions) as session:
        close_session(session, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/account/password", response_class=HTMLResponse)
def password_page(request: Request, user: Reader) -> HTMLResponse:
    return show(request, "password.html", user=user, title="Choose your password")


@router.post("/account/password")
def password_change(request: Request, context: Web, user: Reader, form: CheckedForm) -> Response:
    new = text(form, "new")
    message = "" if new == text(form, "repeat") else "The two new passwords differ."
    if not message:
        try:
            with unit_of_work(context.sessions) as session:
                account = session.get(User, user.user_id)
                assert account is not None  # the session resolved it a moment ago
                change_password(session, account, text(form, "current"), new)
                end_sessions(session, user.user_id, keep_session_id=user.session_id)
        except AccountError as exc:
            message = str(exc)[:1].upper() + str(exc)[1:] + "."
    if message:
        return show(
            request,
            "password.html",
            user=user,
            title="Choose your password",
            message=message,
            status=422,
        )
    return RedirectResponse(f"{HOME}?notice=password-changed", status_code=303)
