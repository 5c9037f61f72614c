"""What ``make stack`` runs: the migration, then one process per service, and their environment."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

import sqlalchemy as sa

from syncbucket.crypto import generate_secret_key
from syncbucket.db.engine import normalise_url
from syncbucket_stack.supervisor import ProcessSpec

SECRET_ENV = "SYNCBUCKET_SECRET_KEY"  # noqa: S105 - a variable name
SERVICES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("portal-sim", ("serve", "portal-sim")),
    ("coordinator", ("serve", "coordinator")),
    ("aggregator", ("serve", "aggregator")),
    ("requests", ("serve", "requests")),
    ("worker-traces", ("worker", "--portal", "traces")),
    ("worker-itportal", ("worker", "--portal", "itportal")),
)


def syncbucket_command() -> tuple[str, ...]:
    """The ``syncbucket`` script next to this interpreter (a venv), else on PATH."""
    beside = Path(sys.executable).with_name("syncbucket")
    if beside.is_file():
        return (str(beside),)
    found = shutil.which("syncbucket")
    if found:
        return (found,)
    return (sys.executable, "-c", "from syncbucket_cli.main import run; run()")


def migrate_spec(env: Mapping[str, str]) -> ProcessSpec:
    return ProcessSpec("migrate", (*syncbucket_command(), "db", "upgrade"), dict(env))


def service_specs(env: Mapping[str, str], only: frozenset[str] | None = None) -> list[ProcessSpec]:
    command = syncbucket_command()
    return [
        ProcessSpec(name, (*command, *args), dict(env))
        for name, args in SERVICES
        if only is None or name in only
    ]


def with_secret_key(env: Mapping[str, str], secret_file: Path) -> dict[str, str]:
    """``env`` with SYNCBUCKET_SECRET_KEY set: as given, else from ``secret_file`` (made once)."""
    result = dict(env)
    if result.get(SECRET_ENV):
        return result
    if not secret_file.is_file():
        secret_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(generate_secret_key() + "\n")
    result[SECRET_ENV] = secret_file.read_text().strip()
    return result


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database named in ``url`` if missing; True if it was created."""
    parsed = sa.make_url(normalise_url(url))
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        return False
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": parsed.database},
            ).first()
            if exists is None:
                quoted = parsed.database.replace('"', '""')
                conn.execute(sa.text(f'CREATE DATABASE "{quoted}"'))
        return exists is None
    finally:
        admin.dispose()
