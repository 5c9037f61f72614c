"""Who is asking: the signed-in user from the session cookie, their role, the CSRF check.

- ``signed_in``: the :class:`SignedInUser` of a valid session, else :class:`SignedOut`
  (the error handler sends the browser to the sign-in page, or tells htmx to). A user
  holding a one-time password is sent to choose their own first.
- ``needs(permission)``: ``signed_in`` plus the role check (:class:`NotAllowed` -> 403).
- ``checked_form``: the posted form, refused (:class:`BadCsrf` -> 403) unless it carries
  the session's CSRF token (field ``csrf_token`` or header ``X-CSRF-Token``, which htmx
  sends). Every state-changing page route takes it.

The session cookie is HttpOnly, SameSite=Lax, and Secure when
``SYNCBUCKET_WEB_COOKIE_SECURE`` is set (serving over HTTPS); the server keeps only its
hash (:mod:`syncbucket.accounts.web_sessions`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.datastructures import FormData

from syncbucket.accounts.web_sessions import SignedInUser, csrf_matches, resolve
from syncbucket.db.session import unit_of_work
from syncbucket.domain.roles import Permission, allows
from syncbucket_coordinator.web.context import MAX_UPLOAD_BYTES, WebContext

SESSION_COOKIE = "sb_session"
SIGNIN_COOKIE = "sb_signin"  # double-submit token of the sign-in form (no session yet)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
PASSWORD_PATHS = frozenset({"/account/password", "/signout"})


class SignedOut(Exception):
    """No valid session: sign in (again)."""


class PasswordChangeRequired(Exception):
    """A one-time password is in use: choose a password first."""


class NotAllowed(Exception):
    def __init__(self, user: SignedInUser, permission: Permission) -> None:
        super().__init__(f"{user.role} may not {permission.name}")
        self.user = user
        self.permission = permission


class BadCsrf(Exception):
    """A state-changing request without the session's CSRF token."""


class TooLarge(Exception):
    """A request body over :data:`MAX_UPLOAD_BYTES`."""


def web(request: Request) -> WebContext:
    found: WebContext = request.app.state.web
    return found


def signed_in(request: Request) -> SignedInUser:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise SignedOut
    context = web(request)
    with unit_of_work(context.sessions) as session:
        user = resolve(session, cookie, context.now(), context.session_policy)
    if user is None:
        raise SignedOut
    if user.must_change_password and request.url.path not in PASSWORD_PATHS:
        raise PasswordChangeRequired
    request.state.user = user
    return user


def needs(permission: Permission) -> Callable[..., SignedInUser]:
    def check(user: Annotated[SignedInUser, Depends(signed_in)]) -> SignedInUser:
        if not allows(user.role, permission):
            raise NotAllowed(user, permission)
        return user

    return check


async def read_form(request: Request) -> FormData:
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_UPLOAD_BYTES:
        raise TooLarge
    return await request.form(max_files=1, max_fields=20_000)


async def checked_form(
    request: Request, user: Annotated[SignedInUser, Depends(signed_in)]
) -> FormData:
    form = await read_form(request)
    given = form.get(CSRF_FIELD)
    token = given if isinstance(given, str) else request.headers.get(CSRF_HEADER)
    if not csrf_matches(user.csrf_token, token):
        raise BadCsrf
    return form


def set_cookie(response: Response, request: Request, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="lax",
        secure=web(request).settings.web_cookie_secure,
        path="/",
    )


Reader = Annotated[SignedInUser, Depends(signed_in)]
Operator = Annotated[SignedInUser, Depends(needs(Permission.RUN))]
Admin = Annotated[SignedInUser, Depends(needs(Permission.MANAGE))]
CheckedForm = Annotated[FormData, Depends(checked_form)]
AnyForm = Annotated[FormData, Depends(read_form)]
Web = Annotated[WebContext, Depends(web)]
