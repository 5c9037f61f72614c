from tests.support.db import (  # noqa: F401 - fixtures
    engine,
    session_factory,
    sqlite_template,
    sqlite_url,
)
