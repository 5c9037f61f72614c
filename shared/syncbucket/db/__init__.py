"""Persistence: the SQLAlchemy 2 schema, engines, sessions and repositories.

Import :mod:`syncbucket.db.schema` for the complete metadata (Alembic's env.py does);
:mod:`syncbucket.db.engine` and :mod:`syncbucket.db.session` for connections;
:mod:`syncbucket.db.records_repo` to upsert synced records.
"""

# Every model's foreign keys must resolve whichever model a process imports first (the
# aggregator touches records tables without ever naming Firm), so the package always
# registers the whole schema.
from syncbucket.db import schema as _schema  # noqa: F401
