"""A migrated PostgreSQL database of its own per module: the pipeline tier's fixtures."""

from tests.integration.pipeline.conftest import pg_engine, pg_sessions  # noqa: F401 - fixtures
