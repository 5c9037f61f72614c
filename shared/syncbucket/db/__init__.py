"""Persistence: the SQLAlchemy 2 schema, engines, sessions and repositories.

Import :mod:`syncbucket.db.schema` for the complete metadata (Alembic's env.py does);
:mod:`syncbucket.db.engine` and :mod:`syncbucket.db.session` for connections;
:mod:`syncbucket.db.records_repo` to upsert synced records.
"""
