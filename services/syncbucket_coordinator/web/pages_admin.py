"""Admin: the firm's users (create, role, disable/enable, reset password) and API tokens.

A new or reset password and a new API token are shown exactly once, on the page that
answers the form; only their hashes are stored. An admin cannot disable or demote their
own account, so a firm never locks itself out of its admin pages.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from syncbucket.accounts.errors import AccountError
from syncbucket.accounts.users import (
    create_user,
    disable_user,
    enable_user,
    list_users,
    reset_password,
    set_role,
    user_by_id,
)
from syncbucket.accounts.web_sessions import SignedInUser
from syncbucket.db.api_tokens import issue_token, list_tokens, revoke_token_id
from syncbucket.db.firms import Firm
from syncbucket.db.session import unit_of_work
from syncbucket.domain.roles import Role
from syncbucket_coordinator.schemas_in import MAX_ID
from syncbucket_coordinator.web.forms import text
from syncbucket_coordinator.web.identity import Admin, CheckedForm, Web
from syncbucket_coordinator.web.pages import show

router = APIRouter(include_in_schema=False)
# Annotated, not a shared Path(...) default: FastAPI would bind its alias to the first use.
DbId = Annotated[int, Path(ge=1, le=MAX_ID)]
MAX_LABEL = 100


def _users_page(
    request: Request, context: Web, user: SignedInUser, status: int = 200, **values: Any
) -> HTMLResponse:
    with unit_of_work(context.sessions) as session:
        users = list_users(session, user.firm_id)
    return show(
        request,
        "admin_users.html",
        user=user,
        area="admin",
        title="Users",
        users=users,
        roles=list(Role),
        status=status,
        **values,
    )


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, context: Web, user: Admin) -> HTMLResponse:
    return _users_page(request, context, user)


@router.post("/admin/users", response_class=HTMLResponse)
def create(request: Request, context: Web, user: Admin, form: CheckedForm) -> HTMLResponse:
    email = text(form, "email")
    try:
        role = Role(text(form, "role"))
        with unit_of_work(context.sessions) as session:
            made = create_user(session, user.firm_id, email, role)
            shown = (made.user.email, made.one_time_password)
    except ValueError:
        return _users_page(request, context, user, 422, problem="Choose a role.", email=email)
    except AccountError as exc:
        return _users_page(request, context, user, 422, problem=str(exc), email=email)
    return _users_page(request, context, user, secret_for=shown[0], secret=shown[1])


@router.post("/admin/users/{user_id}/{action}", response_class=HTMLResponse)
def change(
    request: Request,
    context: Web,
    user: Admin,
    form: CheckedForm,
    action: str,
    user_id: DbId,
) -> HTMLResponse:
    if action not in ("role", "disable", "enable", "reset"):
        return _users_page(request, context, user, 404, problem=f"unknown action {action[:20]!r}")
    if user_id == user.user_id and action in ("role", "disable"):
        return _users_page(
            request, context, user, 422, problem="You cannot disable or demote your own account."
        )
    secret: tuple[str, str | None] | None = None
    try:
        with unit_of_work(context.sessions) as session:
            target = user_by_id(session, user.firm_id, user_id)
            if action == "role":
                set_role(session, target, Role(text(form, "role")))
            elif action == "disable":
                disable_user(session, target, context.now())
            elif action == "enable":
                enable_user(session, target)
            else:
                secret = (target.email, reset_password(session, target).one_time_password)
    except ValueError:
        return _users_page(request, context, user, 422, problem="Choose a role.")
    except AccountError as exc:
        return _users_page(request, context, user, 404, problem=str(exc))
    if secret is not None:
        return _users_page(request, context, user, secret_for=secret[0], secret=secret[1])
    return _users_page(request, context, user, done=f"Saved ({action}).")


def _tokens_page(
    request: Request, context: Web, user: SignedInUser, status: int = 200, **values: Any
) -> HTMLResponse:
    with unit_of_work(context.sessions) as session:
        tokens = list_tokens(session, user.firm_id)
    return show(
        request,
        "admin_tokens.html",
        user=user,
        area="admin",
        title="API tokens",
        tokens=tokens,
        status=status,
        **values,
    )


@router.get("/admin/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, context: Web, user: Admin) -> HTMLResponse:
    return _tokens_page(request, context, user)


@router.post("/admin/tokens", response_class=HTMLResponse)
def create_token(request: Request, context: Web, user: Admin, form: CheckedForm) -> HTMLResponse:
    label = " ".join(text(form, "label").split())[:MAX_LABEL] or None
    with unit_of_work(context.sessions) as session:
        firm = session.get(Firm, user.firm_id)
        assert firm is not None  # the user's firm: users cascade with it
        token = issue_token(session, firm, label=label, created_by=user.email)
    return _tokens_page(request, context, user, secret=token, secret_label=label)


@router.post("/admin/tokens/{token_id}/revoke", response_class=HTMLResponse)
def revoke(
    request: Request, context: Web, user: Admin, _form: CheckedForm, token_id: DbId
) -> HTMLResponse:
    with unit_of_work(context.sessions) as session:
        revoked = revoke_token_id(session, user.firm_id, token_id)
    if not revoked:
        return _tokens_page(request, context, user, 404, problem="No such live token.")
    return _tokens_page(request, context, user, done="Token revoked: it no longer works.")
