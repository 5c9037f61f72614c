"""``syncbucket users ...`` on a migrated SQLite copy through typer's CliRunner."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from syncbucket.accounts import passwords
from syncbucket.accounts.passwords import verify_password
from syncbucket.accounts.signin import WRONG, Refused, SignedIn, sign_in
from syncbucket.accounts.users import NewPassword, create_user, get_user
from syncbucket.accounts.web_sessions import open_session, resolve
from syncbucket.db.firms import Firm
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.db.users import User, WebSession
from syncbucket.domain.roles import Role
from syncbucket_cli import users_cmd

runner = CliRunner()
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CHOSEN = "correct horse battery staple"
OTP_LABEL = "one-time password (shown only now; they choose their own at the first sign-in): "


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same argon2id code paths with the cheapest parameters (the CLI runs in-process)."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", cheap.hash("dummy-for-unknown-users"))


@pytest.fixture
def database(
    sqlite_url: str, session_factory: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> SessionFactory:
    """One firm, "Acme", on a migrated database the commands use."""
    monkeypatch.setenv("SYNCBUCKET_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("COLUMNS", "200")  # rich's table: no wrapped e-mail addresses
    add_firm(session_factory, "Acme")
    return session_factory


def add_firm(factory: SessionFactory, name: str) -> None:
    with unit_of_work(factory) as session:
        session.add(Firm(name=name))


def users(*args: str, stdin: str | None = None) -> Result:
    return runner.invoke(users_cmd.app, list(args), input=stdin)


def one_time_password(result: Result) -> str:
    assert result.exit_code == 0, result.output
    assert result.stdout.count(OTP_LABEL) == 1
    return result.stdout.split(OTP_LABEL)[1].strip()


def load(factory: SessionFactory, email: str) -> User:
    with unit_of_work(factory) as session:
        return get_user(session, email)


def try_sign_in(factory: SessionFactory, email: str, password: str) -> SignedIn | Refused:
    with unit_of_work(factory) as session:
        return sign_in(session, email, password, "192.0.2.1", NOW)


def assert_usage_error(result: Result, message: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ")
    assert result.stderr.strip().count("\n") == 0, result.stderr  # one line
    assert message in result.stderr
    assert result.stdout == ""


def user_count(factory: SessionFactory) -> int:
    with unit_of_work(factory) as session:
        return int(session.scalar(sa.select(sa.func.count(User.id))) or 0)


# --- create -----------------------------------------------------------------------------


def test_create_prints_a_one_time_password_once(database: SessionFactory) -> None:
    result = users("create", " Asha@Example.COM ", "--role", "Operator")
    otp = one_time_password(result)
    assert result.stdout.startswith("created asha@example.com (operator)\n")
    assert result.stdout.count(otp) == 1 and len(otp) == 16

    user = load(database, "asha@example.com")
    assert user.role is Role.OPERATOR and user.must_change_password is True
    assert verify_password(user.password_hash, otp)
    assert otp not in user.password_hash
    signed_in = try_sign_in(database, "asha@example.com", otp)
    assert isinstance(signed_in, SignedIn) and signed_in.user.must_change_password


def test_create_reads_a_chosen_password_from_stdin(database: SessionFactory) -> None:
    result = users(
        "create", "ravi@example.com", "--role", "viewer", "--password-stdin", stdin=f"{CHOSEN}\r\n"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "created ravi@example.com (viewer)\n"
    assert CHOSEN not in result.output
    user = load(database, "ravi@example.com")
    assert user.must_change_password is False
    assert verify_password(user.password_hash, CHOSEN)


def test_create_refuses_an_empty_or_weak_stdin_password(database: SessionFactory) -> None:
    empty = users("create", "ravi@example.com", "--role", "viewer", "--password-stdin", stdin="\n")
    assert_usage_error(empty, "error: no password on standard input")
    weak = users(
        "create", "ravi@example.com", "--role", "viewer", "--password-stdin", stdin="short\n"
    )
    assert_usage_error(weak, "error: a password needs at least 12 characters")
    assert user_count(database) == 0


def test_create_refuses_a_bad_role(database: SessionFactory) -> None:
    result = users("create", "asha@example.com", "--role", "boss")
    assert_usage_error(result, "error: unknown role 'boss'; roles: viewer, operator, admin")
    assert user_count(database) == 0


def test_create_refuses_a_bad_email(database: SessionFactory) -> None:
    result = users("create", "not-an-email", "--role", "admin")
    assert_usage_error(result, "error: 'not-an-email' is not an e-mail address (name@example.com)")
    assert user_count(database) == 0


def test_create_refuses_a_duplicate(database: SessionFactory) -> None:
    assert users("create", "asha@example.com", "--role", "admin").exit_code == 0
    again = users("create", "ASHA@example.com", "--role", "viewer")
    assert_usage_error(again, "a user 'asha@example.com' already exists")
    assert load(database, "asha@example.com").role is Role.ADMIN


def test_create_needs_a_firm_when_there_are_several(database: SessionFactory) -> None:
    add_firm(database, "Bharat")
    ambiguous = users("create", "asha@example.com", "--role", "admin")
    assert_usage_error(ambiguous, "several firms exist")
    unknown = users("create", "asha@example.com", "--role", "admin", "--firm", "Nobody")
    assert_usage_error(unknown, "no firm named 'Nobody'")
    made = users("create", "asha@example.com", "--role", "admin", "--firm", "Bharat")
    assert made.exit_code == 0, made.output
    listed = json.loads(users("list", "--json").stdout)
    assert [(row["email"], row["firm"]) for row in listed] == [("asha@example.com", "Bharat")]


def test_no_password_is_shown_for_a_user_the_commit_lost(
    database: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def create_then_collide(
        session: Session, firm_id: int, email: str, role: Role, password: str | None = None
    ) -> NewPassword:
        made = create_user(session, firm_id, email, role, password)
        # a concurrent create of the same address: the unique index refuses the commit
        session.add(User(firm_id=firm_id, email=made.user.email, role=role, password_hash="x"))
        return made

    monkeypatch.setattr(users_cmd, "create_user", create_then_collide)
    result = users("create", "asha@example.com", "--role", "admin")
    assert isinstance(result.exception, sa.exc.IntegrityError)
    assert OTP_LABEL not in result.output and "created" not in result.output
    assert user_count(database) == 0


def test_create_without_a_role_is_a_usage_error(database: SessionFactory) -> None:
    result = users("create", "asha@example.com")
    assert result.exit_code == 2
    assert "--role" in result.output
    assert user_count(database) == 0


# --- list -------------------------------------------------------------------------------


def test_list_json_has_state_and_no_secret(database: SessionFactory) -> None:
    add_firm(database, "Bharat")
    otp = one_time_password(users("create", "zoe@example.com", "--role", "admin", "--firm", "Acme"))
    chosen = users(
        "create",
        "bela@example.com",
        "--role",
        "viewer",
        "--firm",
        "Bharat",
        "--password-stdin",
        stdin=CHOSEN,
    )
    assert chosen.exit_code == 0, chosen.output
    assert isinstance(try_sign_in(database, "bela@example.com", CHOSEN), SignedIn)
    assert users("disable", "bela@example.com").exit_code == 0

    result = users("list", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows == [
        {
            "email": "zoe@example.com",
            "firm": "Acme",
            "role": "admin",
            "disabled": False,
            "must_change_password": True,
            "last_signin_at": None,
        },
        {
            "email": "bela@example.com",
            "firm": "Bharat",
            "role": "viewer",
            "disabled": True,
            "must_change_password": False,
            "last_signin_at": NOW.isoformat(),
        },
    ]
    hashes = [load(database, e).password_hash for e in ("zoe@example.com", "bela@example.com")]
    for secret in (otp, CHOSEN, *hashes, "$argon2"):
        assert secret not in result.output

    scoped = json.loads(users("list", "--firm", "Bharat", "--json").stdout)
    assert [row["email"] for row in scoped] == ["bela@example.com"]


def test_list_table_shows_each_state(database: SessionFactory) -> None:
    otp = one_time_password(users("create", "amit@example.com", "--role", "admin"))
    assert (
        users(
            "create", "bela@example.com", "--role", "viewer", "--password-stdin", stdin=CHOSEN
        ).exit_code
        == 0
    )
    assert (
        users(
            "create", "chen@example.com", "--role", "operator", "--password-stdin", stdin=CHOSEN
        ).exit_code
        == 0
    )
    assert users("disable", "chen@example.com").exit_code == 0
    assert isinstance(try_sign_in(database, "bela@example.com", CHOSEN), SignedIn)

    result = users("list")
    assert result.exit_code == 0, result.output
    lines = {line.split()[1]: line for line in result.stdout.splitlines() if "@" in line}
    assert set(lines) == {"amit@example.com", "bela@example.com", "chen@example.com"}
    assert "one-time password" in lines["amit@example.com"] and "never" in lines["amit@example.com"]
    assert " ok " in lines["bela@example.com"] and "2026-03-02 09:30" in lines["bela@example.com"]
    assert "disabled" in lines["chen@example.com"]
    assert otp not in result.output and "$argon2" not in result.output


def test_list_of_an_unknown_firm_is_a_usage_error(database: SessionFactory) -> None:
    assert_usage_error(users("list", "--firm", "Nobody"), "no firm named 'Nobody'")


# --- disable / enable -------------------------------------------------------------------


def test_disable_refuses_sign_in_and_ends_sessions_then_enable(database: SessionFactory) -> None:
    ok = users("create", "asha@example.com", "--role", "admin", "--password-stdin", stdin=CHOSEN)
    assert ok.exit_code == 0, ok.output
    with unit_of_work(database) as session:
        cookie = open_session(session, get_user(session, "asha@example.com"), NOW).cookie_value

    result = users("disable", "ASHA@example.com")
    assert result.exit_code == 0, result.output
    assert result.stdout == "disabled asha@example.com\n"
    assert try_sign_in(database, "asha@example.com", CHOSEN) == Refused(WRONG)
    with unit_of_work(database) as session:
        assert session.scalar(sa.select(sa.func.count(WebSession.id))) == 0
        assert resolve(session, cookie, NOW) is None

    enabled = users("enable", "asha@example.com")
    assert enabled.exit_code == 0 and enabled.stdout == "enabled asha@example.com\n"
    assert isinstance(try_sign_in(database, "asha@example.com", CHOSEN), SignedIn)


@pytest.mark.parametrize(
    "command",
    [
        ["disable", "ghost@example.com"],
        ["enable", "ghost@example.com"],
        ["reset-password", "ghost@example.com"],
        ["set-role", "ghost@example.com", "admin"],
    ],
)
def test_an_unknown_user_is_a_usage_error(database: SessionFactory, command: list[str]) -> None:
    assert_usage_error(users(*command), "error: no user 'ghost@example.com'")


def test_a_bad_email_for_an_existing_command_is_a_usage_error(database: SessionFactory) -> None:
    assert_usage_error(users("disable", "not an address"), "error: no user 'not an address'")


# --- reset-password ---------------------------------------------------------------------


def test_reset_password_prints_a_new_one_time_password(database: SessionFactory) -> None:
    first = one_time_password(users("create", "asha@example.com", "--role", "operator"))
    with unit_of_work(database) as session:
        open_session(session, get_user(session, "asha@example.com"), NOW)

    result = users("reset-password", "asha@example.com")
    second = one_time_password(result)
    assert result.stdout.startswith("reset asha@example.com (operator)\n")
    assert second != first
    user = load(database, "asha@example.com")
    assert user.must_change_password is True
    assert verify_password(user.password_hash, second)
    assert not verify_password(user.password_hash, first)
    assert try_sign_in(database, "asha@example.com", first) == Refused(WRONG)
    with unit_of_work(database) as session:
        assert session.scalar(sa.select(sa.func.count(WebSession.id))) == 0


def test_reset_password_from_stdin(database: SessionFactory) -> None:
    otp = one_time_password(users("create", "asha@example.com", "--role", "viewer"))
    result = users("reset-password", "asha@example.com", "--password-stdin", stdin=f"{CHOSEN}\n")
    assert result.exit_code == 0, result.output
    assert result.stdout == "reset asha@example.com (viewer)\n"
    user = load(database, "asha@example.com")
    assert user.must_change_password is False
    assert verify_password(user.password_hash, CHOSEN) and not verify_password(
        user.password_hash, otp
    )
    weak = users("reset-password", "asha@example.com", "--password-stdin", stdin="tab\there-pass\n")
    assert_usage_error(weak, "control characters")
    assert verify_password(load(database, "asha@example.com").password_hash, CHOSEN)


# --- set-role ---------------------------------------------------------------------------


def test_set_role(database: SessionFactory) -> None:
    assert users("create", "asha@example.com", "--role", "viewer").exit_code == 0
    result = users("set-role", "Asha@example.com", " ADMIN ")
    assert result.exit_code == 0, result.output
    assert result.stdout == "asha@example.com is now admin\n"
    assert load(database, "asha@example.com").role is Role.ADMIN
    bad = users("set-role", "asha@example.com", "owner")
    assert_usage_error(bad, "error: unknown role 'owner'; roles: viewer, operator, admin")
    assert load(database, "asha@example.com").role is Role.ADMIN


def test_commands_refuse_an_unmigrated_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNCBUCKET_DATABASE_URL", f"sqlite:///{tmp_path}/empty.db")
    result = users("list")
    assert result.exit_code == 2
    assert "run `syncbucket db upgrade`" in result.stderr
