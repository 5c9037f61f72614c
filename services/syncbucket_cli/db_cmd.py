"""``syncbucket db``: schema migrations."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
import typer

from syncbucket.config import load_settings
from syncbucket.db import migrate
from syncbucket.db.engine import make_engine
from syncbucket_cli.runtime import fail

app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Database schema (Alembic migrations)."""


@app.command()
def upgrade(
    revision: Annotated[str, typer.Option(help="target revision")] = "head",
    url: Annotated[str | None, typer.Option(help="database URL (default: settings)")] = None,
) -> None:
    """Migrate the database to the latest schema (or to --revision)."""
    target = url or load_settings().database_url
    shown = sa.make_url(target).render_as_string(hide_password=True)
    try:
        migrate.upgrade(target, revision)
    except migrate.MigrationsNotFoundError as exc:
        fail(str(exc))
    engine = make_engine(target)
    try:
        current = migrate.current_revision(engine)
    finally:
        engine.dispose()
    typer.echo(f"database {shown} is at revision {current}")
