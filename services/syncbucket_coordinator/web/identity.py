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
from syncbucket_coordinator.web.forms import MAX_SELECTED

SIGNIN_BYTES = 16 * 1024
SESSION_COOKIE = "sb_session"
SIGNIN_COOKIE = "sb_signin"  # double-submit token of the sign-in form (no session yet)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
PASSWORD_PATHS = frozenset({"/account/password", "/signout"})
# Requests a page makes by itself (live progress): they do not count as the person's
# activity, so a run page left open still lets its session expire when idle.
BACKGROUND_PATHS = ("/progress", "/events")


def still_signed_in(context: WebContext, cookie: str) -> bool:
    """Is the session behind ``cookie`` still valid (not signed out, expired, disabled)?"""
    with unit_of_work(context.sessions) as session:
        found = resolve(session, cookie, context.now(), context.session_policy, touch=False)
    return found is not None


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
    background = request.url.path.endswith(BACKGROUND_PATHS)
    with unit_of_work(context.sessions) as session:
        user = resolve(session, cookie, context.now(), context.session_policy, touch=not background)
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


async def read_body(request: Request, limit: int) -> None:
    """Read the body, counting the bytes that arrive (a chunked request has no
    Content-Length to trust): :class:`TooLarge` past ``limit``. Starlette's form parser
    then reads the kept body instead of the socket."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > limit:
            raise TooLarge
    request._body = bytes(received)


async def read_form(request: Request) -> FormData:
    await read_body(request, MAX_UPLOAD_BYTES)
    # As many fields as the Sync Bucket may send ids (forms.MAX_SELECTED), no more.
    return await request.form(max_files=1, max_fields=MAX_SELECTED + 100)


async def read_signin_form(request: Request) -> FormData:
    """The sign-in form, before anyone is known: a few small fields, nothing more."""
    await read_body(request, SIGNIN_BYTES)
    return await request.form(max_files=0, max_fields=8, max_part_size=4096)


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
SigninForm = Annotated[FormData, Depends(read_signin_form)]
Web = Annotated[WebContext, Depends(web)]
