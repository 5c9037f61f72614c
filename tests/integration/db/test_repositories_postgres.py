"""Record upserts, CSV import and demo seeding against real PostgreSQL."""

from __future__ import annotations

import io
import threading
import time
import uuid
from collections.abc import Sequence

import pytest
import sqlalchemy as sa

from syncbucket.clientmaster.csv_import import import_clients_csv
from syncbucket.clientmaster.firms import create_firm
from syncbucket.clientmaster.seed import seed_demo
from syncbucket.crypto import CredentialCipher
from syncbucket.db.clients import Client, ClientCredential
from syncbucket.db.firms import Firm
from syncbucket.db.records_repo import UpsertCounts, upsert_records
from syncbucket.db.records_tables import PaidChallanRecord, model_for
from syncbucket.db.runs import Run
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.domain.records import Record
from syncbucket.domain.runs import RunSource
from tests.support.csvfiles import HEADER, MIXED_ROWS, SECRET_MARK
from tests.support.records import challan, changed, one_of_each

pytestmark = pytest.mark.integration


def _client(sessions: SessionFactory) -> tuple[int, int, int]:
    """A new firm + client + run; returns their ids."""
    with unit_of_work(sessions) as session:
        firm = Firm(name=f"Firm {uuid.uuid4().hex[:8]}")
        session.add(firm)
        session.flush()
        client = Client(firm_id=firm.id, name="Acme", tan="DELA12345B", pan="ABCCA1234F")
        run = Run(firm_id=firm.id, source=RunSource.API, modules=["fetch_challans"])
        session.add_all([client, run])
        session.flush()
        return firm.id, client.id, run.id


def test_upsert_counts_on_postgres(pg_sessions: SessionFactory) -> None:
    firm_id, client_id, run_id = _client(pg_sessions)
    records = one_of_each()

    def upsert(batch: Sequence[Record]) -> UpsertCounts:
        with unit_of_work(pg_sessions) as session:
            return upsert_records(session, firm_id, client_id, run_id, batch)

    assert upsert(records) == UpsertCounts(new=len(records))
    assert upsert(records) == UpsertCounts(unchanged=len(records))
    edited = changed(challan("00893"))
    assert upsert([edited, challan("00894")]) == UpsertCounts(new=1, changed=1)
    with unit_of_work(pg_sessions) as session:
        rows = session.scalars(
            sa.select(PaidChallanRecord).where(PaidChallanRecord.client_id == client_id)
        ).all()
        assert {r.challan_serial for r in rows} == {"00893", "00894"}
        assert next(r for r in rows if r.challan_serial == "00893").content == edited.content()
        for record in records:
            model = model_for(type(record))
            count = session.scalar(
                sa.select(sa.func.count()).select_from(model).where(model.client_id == client_id)
            )
            assert count == (2 if model is PaidChallanRecord else 1)


def test_concurrent_upserts_of_the_same_keys_never_double_count(
    pg_sessions: SessionFactory,
) -> None:
    """Two transactions insert the same natural keys at once: one wins, the other retries."""
    firm_id, client_id, run_id = _client(pg_sessions)
    records = [challan(f"{n:05d}") for n in range(50)]
    results: list[UpsertCounts] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        try:
            with unit_of_work(pg_sessions) as session:
                barrier.wait()
                results.append(upsert_records(session, firm_id, client_id, run_id, records))
                time.sleep(0.2)  # hold the transaction so the other one meets our rows
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(r.new for r in results) == [0, 50]
    assert sum(r.total for r in results) == 100
    with unit_of_work(pg_sessions) as session:
        stored = session.scalar(
            sa.select(sa.func.count())
            .select_from(PaidChallanRecord)
            .where(PaidChallanRecord.client_id == client_id)
        )
    assert stored == 50


def test_csv_import_on_postgres(pg_sessions: SessionFactory, cipher: CredentialCipher) -> None:
    text = "\n".join([HEADER, *MIXED_ROWS]) + "\n"
    with unit_of_work(pg_sessions) as session:
        firm, _ = create_firm(session, f"Firm {uuid.uuid4().hex[:8]}")
        report = import_clients_csv(session, firm.id, io.StringIO(text), cipher)
    assert (report.new, report.updated, report.rejected) == (2, 0, 3)
    assert [e.line for e in report.errors] == [3, 4, 5]
    with unit_of_work(pg_sessions) as session:
        again = import_clients_csv(session, firm.id, io.StringIO(text), cipher)
    assert (again.new, again.updated) == (0, 2)
    with unit_of_work(pg_sessions) as session:
        query = (
            sa.select(Client.tan, ClientCredential.secret)
            .join(ClientCredential, ClientCredential.client_id == Client.id)
            .where(Client.firm_id == firm.id)
        )
        pairs = sorted(
            (tan, cipher.decrypt(secret).password) for tan, secret in session.execute(query)
        )
    assert pairs == [("DELA12345B", f"{SECRET_MARK}-1"), ("DELA12345B", f"{SECRET_MARK}-2")]


def test_seed_demo_on_postgres(pg_sessions: SessionFactory, cipher: CredentialCipher) -> None:
    name = f"Demo {uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    with unit_of_work(pg_sessions) as session:
        report = seed_demo(session, 2_000, cipher, firm_name=name)
    elapsed = time.perf_counter() - started
    assert (report.created, report.wrong) == (2_000, 40)
    assert elapsed < 10, f"seeding 2,000 clients took {elapsed:.1f}s"
    with unit_of_work(pg_sessions) as session:
        again = seed_demo(session, 2_000, cipher, firm_name=name)
    assert (again.created, again.existing) == (0, 2_000)
