"""Run the Alembic migrations from code (the CLI and the tests do; so may a service).

The migration scripts live in the repository's top-level ``migrations/`` (with
``alembic.ini`` at the root, so plain ``alembic upgrade head`` works there too). They
are found, in order: the ``script_location`` argument; ``<repo>/migrations`` next to
this package's source tree (checkouts, editable installs); ``./migrations`` in the
working directory (the Docker image installs the package and copies ``migrations/``
into its WORKDIR).
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

REPO_MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


class MigrationsNotFoundError(RuntimeError):
    """The Alembic scripts directory cannot be located."""


class SchemaNotCurrentError(RuntimeError):
    """The database is not at the latest migration; the message says what to run."""


def migrations_dir(script_location: Path | None = None) -> Path:
    candidates = [script_location] if script_location else [REPO_MIGRATIONS, Path("migrations")]
    for candidate in candidates:
        if candidate is not None and (candidate / "env.py").is_file():
            return candidate.resolve()
    tried = ", ".join(str(c) for c in candidates if c is not None)
    raise MigrationsNotFoundError(
        f"Alembic migrations not found (looked in {tried}); run from the repository root "
        "or the image's working directory, which hold migrations/ and alembic.ini"
    )


def alembic_config(url: str, script_location: Path | None = None) -> Config:
    """A file-less Alembic config: it leaves the caller's logging configuration alone."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir(script_location)))
    config.set_main_option("path_separator", "os")
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head", *, script_location: Path | None = None) -> None:
    command.upgrade(alembic_config(url, script_location), revision)


def downgrade(url: str, revision: str, *, script_location: Path | None = None) -> None:
    command.downgrade(alembic_config(url, script_location), revision)


def head_revision(script_location: Path | None = None) -> str | None:
    config = alembic_config("unused://", script_location)
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def ensure_current(engine: sa.Engine, script_location: Path | None = None) -> None:
    """Raise :class:`SchemaNotCurrentError` unless the database is at the head revision."""
    current = current_revision(engine)
    head = head_revision(script_location)
    if current != head:
        state = "has no SyncBucket schema" if current is None else f"is at revision {current}"
        raise SchemaNotCurrentError(
            f"the database {state}, the code expects {head}: run `syncbucket db upgrade`"
        )
