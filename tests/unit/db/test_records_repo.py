from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.db.clients import Client
from syncbucket.db.firms import Firm
from syncbucket.db.records_repo import UpsertCounts, content_hash, upsert_records
from syncbucket.db.records_tables import PaidChallanRecord, model_for
from syncbucket.db.runs import Run
from syncbucket.domain.records import Record
from syncbucket.domain.runs import RunSource
from tests.support.records import challan, changed, one_of_each

T0 = datetime(2025, 8, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def client(session: Session, firm: Firm) -> Client:
    client = Client(firm_id=firm.id, name="Acme", tan="DELA12345B", pan="ABCCA1234F")
    session.add(client)
    session.flush()
    return client


@pytest.fixture
def runs(session: Session, firm: Firm) -> list[Run]:
    made = [Run(firm_id=firm.id, source=RunSource.CLI, modules=["fetch_challans"]) for _ in "abc"]
    session.add_all(made)
    session.flush()
    return made


def _upsert(
    session: Session, client: Client, run: Run, records: Sequence[Record], at: datetime
) -> UpsertCounts:
    return upsert_records(session, client.firm_id, client.id, run.id, records, now=at)


def test_new_then_unchanged_then_changed(session: Session, client: Client, runs: list[Run]) -> None:
    first = [challan("00001"), challan("00002"), challan("00003")]
    assert _upsert(session, client, runs[0], first, T0) == UpsertCounts(new=3)
    assert _upsert(session, client, runs[1], first, T0 + timedelta(days=1)) == UpsertCounts(
        unchanged=3
    )
    second = [changed(first[0]), first[1], challan("00004")]
    counts = _upsert(session, client, runs[2], second, T0 + timedelta(days=2))
    assert counts == UpsertCounts(new=1, changed=1, unchanged=1) and counts.total == 3

    rows = {r.challan_serial: r for r in session.scalars(sa.select(PaidChallanRecord))}
    assert len(rows) == 4
    edited = rows["00001"]
    assert edited.first_seen_at == T0
    assert edited.last_changed_at == edited.last_seen_at == T0 + timedelta(days=2)
    assert edited.last_run_id == runs[2].id
    assert edited.content == changed(first[0]).content()
    assert edited.content_hash == content_hash(changed(first[0]).content())
    untouched = rows["00003"]  # absent from the last sync: kept, not touched
    assert untouched.last_seen_at == T0 + timedelta(days=1) and untouched.last_run_id == runs[1].id
    assert rows["00002"].last_changed_at == T0 and rows["00002"].last_run_id == runs[2].id


def test_key_and_query_columns_are_typed(session: Session, client: Client, runs: list[Run]) -> None:
    _upsert(session, client, runs[0], [challan("00893", amount="1234.50", day=9)], T0)
    row = session.scalars(sa.select(PaidChallanRecord)).one()
    assert (row.bsr_code, row.deposit_date, row.challan_serial) == (
        "0270001",
        date(2025, 7, 9),
        "00893",
    )
    assert str(row.amount) in {"1234.50", "1234.5"} and row.fin_year == "2025-26"
    assert row.content["breakup"]["total"] == "1234.50"


def test_same_natural_key_twice_in_a_batch_counts_once_last_wins(
    session: Session, client: Client, runs: list[Run]
) -> None:
    original = challan("00007")
    counts = _upsert(session, client, runs[0], [original, changed(original)], T0)
    assert counts == UpsertCounts(new=1)
    row = session.scalars(sa.select(PaidChallanRecord)).one()
    assert row.content == changed(original).content()


def test_every_module_table_round_trips(session: Session, client: Client, runs: list[Run]) -> None:
    records = one_of_each()
    assert _upsert(session, client, runs[0], records, T0) == UpsertCounts(new=len(records))
    assert _upsert(session, client, runs[1], records, T0) == UpsertCounts(unchanged=len(records))
    for record in records:
        model = model_for(type(record))
        stored = session.scalars(sa.select(model)).one()
        assert stored.content == record.content()
        assert all(getattr(stored, name) == getattr(record, name) for name in model.key_columns)


def test_keys_are_per_client(session: Session, firm: Firm, client: Client, runs: list[Run]) -> None:
    other = Client(firm_id=firm.id, name="Other", tan="DELO12345B", pan="ABCCO1234F")
    session.add(other)
    session.flush()
    record = challan("00042")
    assert _upsert(session, client, runs[0], [record], T0) == UpsertCounts(new=1)
    assert _upsert(session, other, runs[0], [record], T0) == UpsertCounts(new=1)
    assert session.scalar(sa.select(sa.func.count()).select_from(PaidChallanRecord)) == 2


def test_many_records_cross_the_select_chunk(
    session: Session, client: Client, runs: list[Run]
) -> None:
    records = [challan(f"{n:05d}") for n in range(1200)]
    assert _upsert(session, client, runs[0], records, T0) == UpsertCounts(new=1200)
    assert _upsert(session, client, runs[1], records, T0) == UpsertCounts(unchanged=1200)


def test_content_hash_is_canonical() -> None:
    assert content_hash({"a": 1, "b": [1, 2]}) == content_hash({"b": [1, 2], "a": 1})
    assert content_hash({"a": "1"}) != content_hash({"a": 1})
    assert len(content_hash({})) == 64


def test_unknown_record_type_is_refused(session: Session, client: Client, runs: list[Run]) -> None:
    with pytest.raises(TypeError, match="no records table"):
        _upsert(session, client, runs[0], [Record()], T0)
