"""A process that only imports the records tables must still resolve their foreign keys."""

import subprocess
import sys

PROBE = """
from syncbucket.db.records_tables import RECORD_MODELS
for model in RECORD_MODELS.values():
    for fk in model.__table__.foreign_keys:
        fk.column  # raises NoReferencedTableError when firms/clients are not registered
print("resolved")
"""


def test_records_tables_resolve_foreign_keys_in_a_fresh_interpreter() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "resolved"
