"""``syncbucket clients edit TAN ...`` on a migrated SQLite copy through typer's CliRunner."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from syncbucket.clientmaster.firms import create_firm
from syncbucket.crypto import CredentialCipher
from syncbucket.db.clients import Client, ClientCredential
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket_cli import clients_cmd
from tests.support.db import TEST_KEY

runner = CliRunner()
TAN, OTHER_TAN = "DELA00001A", "MUMB00001B"
SECRET = "Pa55-word-never-shown"


@pytest.fixture
def database(
    sqlite_url: str, session_factory: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> SessionFactory:
    """Firms Acme (client TAN) and Rival (client OTHER_TAN)."""
    monkeypatch.setenv("SYNCBUCKET_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("SYNCBUCKET_SECRET_KEY", TEST_KEY)  # the `cipher` fixture's key
    with unit_of_work(session_factory) as session:
        for firm_name, tan in (("Acme", TAN), ("Rival", OTHER_TAN)):
            firm, _ = create_firm(session, firm_name)
            session.add(
                Client(firm_id=firm.id, name=f"{firm_name} client", tan=tan, pan="AAAPA1234A")
            )
    return session_factory


def clients(*args: str, stdin: str | None = None) -> Result:
    return runner.invoke(clients_cmd.app, ["edit", *args], input=stdin)


def client(factory: SessionFactory, tan: str) -> tuple[str, str, bool]:
    with unit_of_work(factory) as session:
        found = session.scalars(sa.select(Client).where(Client.tan == tan)).one()
        return found.name, found.pan, found.active


def login(factory: SessionFactory, cipher: CredentialCipher, tan: str, portal: str) -> str | None:
    with unit_of_work(factory) as session:
        secret = session.scalar(
            sa.select(ClientCredential.secret)
            .join(Client, Client.id == ClientCredential.client_id)
            .where(Client.tan == tan, ClientCredential.portal == portal)
        )
    if secret is None:
        return None
    credentials = cipher.decrypt(secret)
    return f"{credentials.user_id}:{credentials.password}"


def test_edit_changes_only_the_options_given(database: SessionFactory) -> None:
    result = clients(TAN, "--firm", "Acme", "--name", "Acme Traders", "--deactivate")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"updated client {TAN}: name, deactivated"
    assert client(database, TAN) == ("Acme Traders", "AAAPA1234A", False)
    assert (
        clients(TAN.lower(), "--firm", "Acme", "--activate", "--pan", "aaapa9999z").exit_code == 0
    )
    assert client(database, TAN) == ("Acme Traders", "AAAPA9999Z", True)


def test_passwords_come_from_stdin_or_a_hidden_prompt(
    database: SessionFactory, cipher: CredentialCipher
) -> None:
    result = clients(
        TAN,
        "--firm",
        "Acme",
        "--traces-user",
        "AAAPA1234A",
        "--traces-password-stdin",
        "--itportal-user",
        "ITUSER",
        "--itportal-password-stdin",
        stdin=f"{SECRET}\nsecond-{SECRET}\n",
    )
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    assert "traces login set, itportal login set" in result.stdout
    assert login(database, cipher, TAN, "traces") == f"AAAPA1234A:{SECRET}"
    assert login(database, cipher, TAN, "itportal") == f"ITUSER:second-{SECRET}"

    prompted = clients(TAN, "--firm", "Acme", "--traces-user", "NEWUSER", stdin=f"{SECRET}\n")
    assert prompted.exit_code == 0, prompted.output
    assert "TRACES password" in prompted.output and SECRET not in prompted.output
    assert login(database, cipher, TAN, "traces") == f"NEWUSER:{SECRET}"

    removed = clients(TAN, "--firm", "Acme", "--remove-credentials", "itportal")
    assert removed.exit_code == 0 and "itportal login removed" in removed.stdout
    assert login(database, cipher, TAN, "itportal") is None


def test_there_is_no_password_flag(database: SessionFactory) -> None:
    result = clients(TAN, "--firm", "Acme", "--traces-password", SECRET)
    assert result.exit_code == 2
    assert "No such option" in result.output


def test_another_firms_client_is_not_found(database: SessionFactory) -> None:
    result = clients(OTHER_TAN, "--firm", "Acme", "--deactivate")
    assert result.exit_code == 2
    assert f"no client with TAN {OTHER_TAN} in this firm" in result.stderr
    assert client(database, OTHER_TAN)[2] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pan", "NOT-A-PAN"], "pan: "),
        (["--traces-password-stdin"], "--traces-password-stdin needs --traces-user"),
        ([], "nothing to change"),
    ],
)
def test_refusals_exit_two_and_change_nothing(
    database: SessionFactory, args: list[str], message: str
) -> None:
    result = clients(TAN, "--firm", "Acme", *args, stdin="")
    assert result.exit_code == 2
    assert message in result.stderr
    assert client(database, TAN) == ("Acme client", "AAAPA1234A", True)
