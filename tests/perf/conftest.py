from tests.e2e.conftest import e2e_broker_url, e2e_database, e2e_stack  # noqa: F401 - fixtures
