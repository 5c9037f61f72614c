from tests.support.db import (  # noqa: F401 - fixtures
    cipher,
    engine,
    session,
    session_factory,
    sqlite_template,
    sqlite_url,
)
