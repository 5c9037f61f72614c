from tests.support.db import engine, sqlite_template, sqlite_url  # noqa: F401 - fixtures
from tests.unit.coordinator.fixtures import (  # noqa: F401 - fixtures
    api,
    coordinator,
    firm_a,
    firm_b,
    publisher,
    sessions,
    settings,
)
