"""The client master's read models and filters on real PostgreSQL.

- ``note_attempt`` is an INSERT ... ON CONFLICT DO UPDATE: two transactions noting the
  same client and module part at once end in one row, neither fails;
- the directory's filters and sorts (correlated EXISTS, LIKE ... ESCAPE, NULLS FIRST/LAST)
  give exactly the answers they give on SQLite, for the same seeded clients.
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.clientmaster.directory import ClientEntry, SortKey, count_matching, directory_page
from syncbucket.clientmaster.filters import ClientFilter, CredentialFilter, parse_filter
from syncbucket.clientmaster.sync_state import Attempted, note_attempt
from syncbucket.db.client_state import ClientLoginState, ClientModuleState
from syncbucket.db.clients import Client, ClientCredential
from syncbucket.db.engine import make_engine
from syncbucket.db.firms import Firm
from syncbucket.db.migrate import upgrade
from syncbucket.db.records_repo import upsert_records
from syncbucket.db.runs import Run
from syncbucket.db.session import SessionFactory, make_session_factory, unit_of_work
from syncbucket.domain.portals import ModuleKey, Portal
from syncbucket.domain.records import NoticeOrder
from syncbucket.domain.runs import ItemStatus, RunSource
from syncbucket.pipeline.aggregator import apply_outcome
from syncbucket.reports.records import client_records
from tests.support.pipeline import NOW, add_clients, add_firm, item_ids, outcome, start_run

pytestmark = pytest.mark.integration

DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def sqlite_sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SessionFactory]:
    template = tmp_path_factory.mktemp("state") / "template.db"
    upgrade(f"sqlite:///{template}")
    target = template.with_name("copy.db")
    shutil.copyfile(template, target)
    engine = make_engine(f"sqlite:///{target}")
    yield make_session_factory(engine)
    engine.dispose()


def _firm_client_runs(sessions: SessionFactory, runs: int = 2) -> tuple[int, int, list[int]]:
    with unit_of_work(sessions) as session:
        firm = Firm(name=f"Firm {uuid.uuid4().hex[:8]}")
        session.add(firm)
        session.flush()
        client = Client(firm_id=firm.id, name="Acme", tan="DELA12345B", pan="ABCCA1234F")
        session.add(client)
        made = [
            Run(firm_id=firm.id, source=RunSource.API, modules=["verify_ldc"]) for _ in range(runs)
        ]
        session.add_all(made)
        session.flush()
        return firm.id, client.id, [run.id for run in made]


def _together(*actions: Callable[[], None]) -> None:
    """Run each action in its own thread, released at the same moment; re-raise failures."""
    barrier = threading.Barrier(len(actions))
    errors: list[BaseException] = []

    def run(action: Callable[[], None]) -> None:
        try:
            barrier.wait()
            action()
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors


def _noting(sessions: SessionFactory, attempt: Attempted, hold: float) -> Callable[[], None]:
    def action() -> None:
        with unit_of_work(sessions) as session:
            note_attempt(session, attempt, NOW)
            time.sleep(hold)  # keep the row's lock: the other transaction must wait

    return action


def test_concurrent_note_attempt_ends_in_one_row(pg_sessions: SessionFactory) -> None:
    for _ in range(5):
        firm_id, client_id, (good_run, bad_run) = _firm_client_runs(pg_sessions)

        part = (firm_id, client_id, "verify_ldc", "traces")
        good = Attempted(*part, good_run, ItemStatus.SUCCEEDED, None)
        bad = Attempted(*part, bad_run, ItemStatus.FAILED, "invalid_credentials")
        _together(_noting(pg_sessions, good, 0.2), _noting(pg_sessions, bad, 0.2))
        with unit_of_work(pg_sessions) as session:
            (state,) = session.scalars(
                sa.select(ClientModuleState).where(ClientModuleState.client_id == client_id)
            ).all()
            # whichever came last, the success is kept and the last attempt is one of them
            assert (state.last_success_at, state.last_success_run_id) == (NOW, good_run)
            assert (state.last_status, state.last_run_id) in {
                ("succeeded", good_run),
                ("failed", bad_run),
            }
            (login,) = session.scalars(
                sa.select(ClientLoginState).where(ClientLoginState.client_id == client_id)
            ).all()
            assert (login.state, login.run_id) in {("ok", good_run), ("rejected", bad_run)}


def test_concurrent_outcomes_of_one_client_and_module(pg_sessions: SessionFactory) -> None:
    """The real path: two runs' items of the same client part applied at once."""
    with unit_of_work(pg_sessions) as session:
        firm_id = add_firm(session)
        (client_id,) = add_clients(session, firm_id, 1)
        runs = [start_run(session, firm_id, [ModuleKey.NOTICES_ORDERS]).run_id for _ in range(2)]
        items = {run_id: item_ids(session, run_id) for run_id in runs}

    def apply(run_id: int, index: int, status: str) -> Callable[[], None]:
        def action() -> None:
            with unit_of_work(pg_sessions) as session:
                message = outcome(items[run_id][index], run_id, status, error_code=None)
                assert apply_outcome(session, message, NOW).applied

        return action

    _together(
        apply(runs[0], 0, "succeeded"),
        apply(runs[1], 0, "succeeded"),
        apply(runs[0], 1, "failed"),
        apply(runs[1], 1, "succeeded"),
    )
    with unit_of_work(pg_sessions) as session:
        rows = session.scalars(
            sa.select(ClientModuleState).where(ClientModuleState.client_id == client_id)
        ).all()
        assert sorted((r.module, r.portal) for r in rows) == [
            ("notices_orders", "itportal"),
            ("notices_orders", "traces"),
        ]
        by_portal = {r.portal: r for r in rows}
        assert by_portal["itportal"].last_success_run_id in runs
        assert by_portal["traces"].last_success_run_id == runs[1]
        logins = session.execute(
            sa.select(ClientLoginState.portal, ClientLoginState.state).where(
                ClientLoginState.client_id == client_id
            )
        ).all()
        assert sorted(tuple(row) for row in logins) == [("itportal", "ok"), ("traces", "ok")]


# --- the same answers as SQLite ----------------------------------------------------

NAMES = [
    "Acme Traders",
    "acme exports",
    "100% Pure",
    "100 Pure",
    "A_B Corp",
    "AxB Corp",
    "Back\\slash",
    "Zeta",
    "Sleeping Ltd",
    "Half Notices",
    "Never",
]


def _seed(session: Session) -> int:
    firm_id = add_firm(session, f"Same answers {uuid.uuid4().hex[:8]}")
    run = Run(firm_id=firm_id, source=RunSource.API, modules=["verify_ldc"])
    session.add(run)
    session.flush()
    ids: dict[str, int] = {}
    for index, name in enumerate(NAMES):
        client = Client(
            firm_id=firm_id,
            name=name,
            tan=f"{'DMKB'[index % 4]}ELA{index:05d}B",
            pan=f"ABC{'PCFH'[index % 4]}A{index:04d}F",
            active=name != "Sleeping Ltd",
        )
        session.add(client)
        session.flush()
        ids[name] = client.id
    for index, name in enumerate(NAMES):
        portals = list(Portal)[: index % 3]  # none, TRACES only, both
        for portal in portals:
            session.add(ClientCredential(client_id=ids[name], portal=portal.value, secret="t"))
    session.flush()

    def note(name: str, module: ModuleKey, portal: Portal, days_ago: int, code: str | None) -> None:
        status = ItemStatus.SUCCEEDED if code is None else ItemStatus.FAILED
        attempt = Attempted(firm_id, ids[name], module.value, portal.value, run.id, status, code)
        note_attempt(session, attempt, NOW - days_ago * DAY)

    note("Acme Traders", ModuleKey.VERIFY_LDC, Portal.TRACES, 40, None)
    note("Acme Traders", ModuleKey.VERIFY_LDC, Portal.TRACES, 1, "portal_timeout")
    note("acme exports", ModuleKey.FETCH_CHALLANS, Portal.ITPORTAL, 2, None)
    note("100% Pure", ModuleKey.RETURN_SUMMARY, Portal.TRACES, 30, None)
    note("100 Pure", ModuleKey.RETURN_SUMMARY, Portal.TRACES, 31, None)
    note("A_B Corp", ModuleKey.FETCH_CHALLANS, Portal.ITPORTAL, 1, "invalid_credentials")
    note("AxB Corp", ModuleKey.NOTICES_ORDERS, Portal.TRACES, 6, None)
    note("AxB Corp", ModuleKey.NOTICES_ORDERS, Portal.ITPORTAL, 5, None)
    note("AxB Corp", ModuleKey.VERIFY_LDC, Portal.TRACES, 3, "locked")
    note("Zeta", ModuleKey.OUTSTANDING_DEMAND, Portal.TRACES, 0, None)
    note("Sleeping Ltd", ModuleKey.VERIFY_LDC, Portal.TRACES, 100, None)
    note("Half Notices", ModuleKey.NOTICES_ORDERS, Portal.ITPORTAL, 0, None)
    note("Half Notices", ModuleKey.NOTICES_ORDERS, Portal.TRACES, 0, "portal_server_error")
    note("Never", ModuleKey.VERIFY_LDC, Portal.TRACES, 0, "portal_server_error")
    return firm_id


FILTERS: list[dict[str, str]] = [
    {},
    {"search": "acme"},
    {"search": "100%"},
    {"search": "a_b"},
    {"search": "k\\s"},
    {"search": "dela"},
    {"search": "abcc"},
    {"active": "0"},
    {"active": "1"},
    *({"credentials": state.value} for state in CredentialFilter),
    {"failed_last_time": "1"},
    {"failed_last_time": "1", "module": "verify_ldc"},
    {"failed_last_time": "1", "module": "notices_orders"},
    {"not_synced_days": "30"},
    {"not_synced_days": "30", "module": "return_summary"},
    {"not_synced_days": "4", "module": "notices_orders"},
    {"not_synced_days": "6", "module": "notices_orders"},
    {"never_synced": "1"},
    {"never_synced": "1", "module": "notices_orders"},
    {"never_synced": "1", "active": "1", "search": "e"},
    {"failed_last_time": "1", "credentials": "problem", "not_synced_days": "2"},
]


SORTED_BY: dict[SortKey, Callable[[ClientEntry], object]] = {
    SortKey.NAME: lambda e: e.name,
    SortKey.TAN: lambda e: e.tan,
    SortKey.PAN: lambda e: e.pan,
    SortKey.ACTIVE: lambda e: e.active,
    SortKey.LAST_SYNCED: lambda e: e.last_synced_at,
}


def _answers(sessions: SessionFactory) -> dict[str, object]:
    with unit_of_work(sessions) as session:
        firm_id = _seed(session)
        found: dict[str, object] = {}
        for values in FILTERS:
            chosen = parse_filter(values)
            page = directory_page(session, firm_id, chosen, NOW, limit=500)
            found[f"filter {values}"] = sorted(e.name for e in page.entries)
            found[f"total {values}"] = page.total
            found[f"active {values}"] = count_matching(
                session, firm_id, chosen, NOW, active_only=True
            )
        for sort, key in SORTED_BY.items():
            for descending in (False, True):
                page = directory_page(
                    session, firm_id, ClientFilter(), NOW, sort=sort, descending=descending
                )
                # the sort key's own values: the same whatever the server's collation
                found[f"sort {sort} {descending}"] = [key(e) for e in page.entries]
                found[f"names {sort} {descending}"] = [e.name for e in page.entries]
    return found


def _byte_order_collation(sessions: SessionFactory) -> bool:
    with unit_of_work(sessions) as session:
        collation = session.scalar(
            sa.text("SELECT datcollate FROM pg_database WHERE datname = current_database()")
        )
    return str(collation).split(".")[0] in {"C", "POSIX"}


def test_filters_and_sorts_give_the_same_answers_as_sqlite(
    pg_sessions: SessionFactory, sqlite_sessions: SessionFactory
) -> None:
    on_postgres, on_sqlite = _answers(pg_sessions), _answers(sqlite_sessions)
    if not _byte_order_collation(pg_sessions):  # names then sort as the locale says
        for answers in (on_postgres, on_sqlite):
            for key in [k for k in answers if k.startswith("names ")]:
                del answers[key]
            answers.pop(f"sort {SortKey.NAME} False")
            answers.pop(f"sort {SortKey.NAME} True")
    assert on_postgres == on_sqlite
    # and the answers are the right ones, not merely the same ones
    never = ["A_B Corp", "Back\\slash", "Half Notices", "Never"]
    assert on_postgres["filter {'search': '100%'}"] == ["100% Pure"]
    assert on_postgres["filter {'search': 'a_b'}"] == ["A_B Corp"]
    assert on_postgres["filter {'search': 'k\\\\s'}"] == ["Back\\slash"]
    assert on_postgres["filter {'search': 'acme'}"] == ["Acme Traders", "acme exports"]
    assert on_postgres["filter {'never_synced': '1'}"] == never
    assert on_postgres["filter {'credentials': 'rejected'}"] == ["A_B Corp"]
    assert on_postgres["filter {'credentials': 'locked'}"] == ["AxB Corp"]
    assert on_postgres["filter {'not_synced_days': '30'}"] == sorted(
        ["100 Pure", "Acme Traders", "Sleeping Ltd", *never]
    )
    assert on_postgres["filter {'not_synced_days': '6', 'module': 'notices_orders'}"] == sorted(
        set(NAMES) - {"AxB Corp"}
    )
    assert on_postgres["filter {'not_synced_days': '4', 'module': 'notices_orders'}"] == sorted(
        NAMES
    )
    assert on_postgres["total {'active': '0'}"] == 1
    assert on_postgres["active {'active': '0'}"] == 0
    assert on_postgres[f"sort {SortKey.LAST_SYNCED} True"] == [
        NOW,
        NOW - 2 * DAY,
        NOW - 6 * DAY,  # notices_orders: the older of its two parts
        NOW - 30 * DAY,
        NOW - 31 * DAY,
        NOW - 40 * DAY,
        NOW - 100 * DAY,
        None,
        None,
        None,
        None,
    ]
    assert on_postgres[f"sort {SortKey.LAST_SYNCED} False"] == [
        None,
        None,
        None,
        None,
        NOW - 100 * DAY,
        NOW - 40 * DAY,
        NOW - 31 * DAY,
        NOW - 30 * DAY,
        NOW - 6 * DAY,
        NOW - 2 * DAY,
        NOW,
    ]


def test_records_without_a_date_come_last_on_postgres(pg_sessions: SessionFactory) -> None:
    firm_id, client_id, (run_id, _) = _firm_client_runs(pg_sessions)

    def notice(reference: str, issued_on: date | None) -> NoticeOrder:
        return NoticeOrder(
            "traces_request", reference, "Request", None, None, "Open", issued_on, None, None, None
        )

    with unit_of_work(pg_sessions) as session:
        upsert_records(
            session,
            firm_id,
            client_id,
            run_id,
            [notice("R1", date(2025, 5, 1)), notice("R2", None), notice("R3", date(2025, 9, 1))],
            now=NOW,
        )
        views, total = client_records(session, firm_id, client_id, ModuleKey.NOTICES_ORDERS)
    assert total == 3
    assert [v.content["reference"] for v in views] == ["R3", "R1", "R2"]
