"""Migration 0005 fills the client read models from the history already in ``items``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from syncbucket.db.migrate import upgrade

T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
T1 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
T2 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def test_an_upgraded_firm_keeps_what_its_clients_synced(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0004")
    engine = sa.create_engine(url)
    items = [  # (run, client, module, portal, status, error_code, finished)
        (1, 1, "verify_ldc", "traces", "succeeded", None, T1),
        (2, 1, "verify_ldc", "traces", "failed", "portal_server_error", T2),
        (1, 1, "notices_orders", "itportal", "succeeded", None, T1),
        (1, 1, "notices_orders", "traces", "failed", "invalid_credentials", T0),
        (2, 2, "verify_ldc", "traces", "succeeded", None, T2),
        (2, 2, "return_summary", "traces", "pending", None, None),
        (2, 2, "fetch_challans", "itportal", "failed", "locked", T2),
    ]
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO firms (id, name) VALUES (1, 'Old Firm')"))
        for client in (1, 2):
            conn.execute(
                sa.text(
                    "INSERT INTO clients (id, firm_id, name, tan, pan) "
                    "VALUES (:id, 1, :name, :tan, 'AAAPA0001A')"
                ),
                {"id": client, "name": f"Client {client}", "tan": f"DELA0000{client}A"},
            )
        for run in (1, 2):
            conn.execute(
                sa.text(
                    "INSERT INTO runs (id, firm_id, source, status, modules) "
                    "VALUES (:id, 1, 'cli', 'completed', '[]')"
                ),
                {"id": run},
            )
        for run, client, module, portal, status, code, finished in items:
            conn.execute(
                sa.text(
                    "INSERT INTO items (run_id, firm_id, client_id, module, portal, status, "
                    "error_code, finished_at) VALUES (:r, 1, :c, :m, :p, :s, :e, :f)"
                ),
                {
                    "r": run,
                    "c": client,
                    "m": module,
                    "p": portal,
                    "s": status,
                    "e": code,
                    "f": finished,
                },
            )
    upgrade(url)
    with engine.connect() as conn:
        parts = {
            (row.client_id, row.module, row.portal): row
            for row in conn.execute(sa.text("SELECT * FROM client_module_state"))
        }
        wholes = {
            (row.client_id, row.module): row
            for row in conn.execute(sa.text("SELECT * FROM client_module_sync"))
        }
        logins = dict(
            ((row.client_id, row.portal), row.state)
            for row in conn.execute(sa.text("SELECT * FROM client_login_state"))
        )
        counts = dict(conn.execute(sa.text("SELECT id, client_count FROM runs")).all())
    ldc = parts[(1, "verify_ldc", "traces")]
    assert ldc.last_status == "failed" and ldc.last_error_code == "portal_server_error"
    assert ldc.last_run_id == 2 and ldc.last_success_run_id == 1
    assert wholes[(1, "verify_ldc")].failed and wholes[(1, "verify_ldc")].synced_at is not None
    assert wholes[(1, "notices_orders")].synced_at is None  # one part of two never succeeded
    assert wholes[(2, "verify_ldc")].failed in (0, False)
    assert (2, "return_summary", "traces") not in parts  # never finished
    # the credentials worked after the rejection (fixed meanwhile); client 2's IT portal locked
    assert logins == {
        (1, "traces"): "ok",
        (1, "itportal"): "ok",
        (2, "traces"): "ok",
        (2, "itportal"): "locked",
    }
    assert counts == {1: 1, 2: 2}
    engine.dispose()
