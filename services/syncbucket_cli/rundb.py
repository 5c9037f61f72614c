"""The database side of ``syncbucket run``: one engine per command, the firm it is about.

Polling (``--wait``, ``watch``) opens one short transaction per poll on the same engine,
so the schema check and the engine set-up happen once per command, not twice a second.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from syncbucket.clientmaster.errors import ClientMasterError, FirmAmbiguousError
from syncbucket.clientmaster.firms import resolve_firm
from syncbucket.config import load_settings
from syncbucket.db.engine import make_engine
from syncbucket.db.migrate import MigrationsNotFoundError, SchemaNotCurrentError, ensure_current
from syncbucket.db.session import SessionFactory, make_session_factory, unit_of_work
from syncbucket.pipeline.errors import PipelineError
from syncbucket_cli.runtime import fail


@dataclass(frozen=True)
class FirmDatabase:
    sessions: SessionFactory
    firm_id: int
    firm_name: str

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with unit_of_work(self.sessions) as session:
            yield session


@contextmanager
def firm_database(firm: str | None) -> Iterator[FirmDatabase]:
    """The configured database and the firm named (or the only one); errors exit with 2."""
    engine = make_engine(load_settings().database_url)
    try:
        ensure_current(engine)
        sessions = make_session_factory(engine)
        with unit_of_work(sessions) as session:
            chosen = resolve_firm(session, firm)
        yield FirmDatabase(sessions, chosen.id, chosen.name)
    except FirmAmbiguousError as exc:
        fail(f"{exc} with --firm NAME")
    except (SchemaNotCurrentError, MigrationsNotFoundError, ClientMasterError) as exc:
        fail(str(exc))
    except PipelineError as exc:
        fail(str(exc))
    finally:
        engine.dispose()


def requested_by() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
