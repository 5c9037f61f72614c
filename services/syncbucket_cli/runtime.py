"""What the database commands share: settings, a checked session factory, the cipher."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from sqlalchemy.orm import Session

from syncbucket.accounts.errors import AccountError
from syncbucket.clientmaster.errors import ClientMasterError
from syncbucket.config import load_settings
from syncbucket.crypto import CredentialCipher
from syncbucket.db.engine import make_engine
from syncbucket.db.migrate import MigrationsNotFoundError, SchemaNotCurrentError, ensure_current
from syncbucket.db.session import make_session_factory, unit_of_work

USAGE_ERROR = 2


def fail(message: str, code: int = USAGE_ERROR) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@contextmanager
def transaction() -> Iterator[Session]:
    """One transaction on the configured database, refused if its schema is not current.

    Client-master and account errors become a one-line message and exit status 2.
    """
    engine = make_engine(load_settings().database_url)
    try:
        ensure_current(engine)
        with unit_of_work(make_session_factory(engine)) as session:
            yield session
    except (
        SchemaNotCurrentError,
        MigrationsNotFoundError,
        ClientMasterError,
        AccountError,
    ) as exc:
        fail(str(exc))
    finally:
        engine.dispose()


def cipher() -> CredentialCipher:
    return CredentialCipher(load_settings().require_secret_key())
