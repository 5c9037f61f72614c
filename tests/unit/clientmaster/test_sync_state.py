"""The client master's read models follow each outcome (apply_outcome -> note_attempt)."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.clientmaster.csv_import import import_clients_csv
from syncbucket.clientmaster.sync_state import Attempted, forget_login_state, note_attempt
from syncbucket.config import Settings
from syncbucket.crypto import CredentialCipher
from syncbucket.db.client_state import ClientLoginState, ClientModuleState
from syncbucket.db.clients import Client
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.domain.portals import ModuleKey, Portal
from syncbucket.domain.runs import ItemStatus
from syncbucket.pipeline.aggregator import apply_outcome
from syncbucket.pipeline.dispatcher import dispatch_tick
from syncbucket.pipeline.reaper import reap
from syncbucket.pipeline.runs import cancel_run
from tests.support.csvfiles import HEADER
from tests.support.pipeline import (
    NOW,
    FakePublisher,
    add_clients,
    add_firm,
    item,
    item_ids,
    outcome,
    start_run,
)
from tests.support.records import challan

LDC = [ModuleKey.VERIFY_LDC]
LATER = NOW + timedelta(hours=1)


def module_state(session: Session, client_id: int) -> dict[tuple[str, str], ClientModuleState]:
    rows = session.scalars(
        sa.select(ClientModuleState)
        .where(ClientModuleState.client_id == client_id)
        .execution_options(populate_existing=True)
    )
    return {(row.module, row.portal): row for row in rows}


def login_state(session: Session, client_id: int) -> dict[str, str]:
    rows = session.execute(
        sa.select(ClientLoginState.portal, ClientLoginState.state).where(
            ClientLoginState.client_id == client_id
        )
    )
    return {portal: state for portal, state in rows}


def one_item(session: Session, firm_id: int, modules: list[ModuleKey] = LDC) -> tuple[int, int]:
    created = start_run(session, firm_id, modules)
    return created.run_id, item_ids(session, created.run_id)[0]


def finish(
    session: Session, firm_id: int, status: str, code: str | None = None, *, at: datetime = NOW
) -> int:
    """One verify_ldc item of a new run, finished with ``status``; returns the run id."""
    run_id, item_id = one_item(session, firm_id)
    assert apply_outcome(session, outcome(item_id, run_id, status, error_code=code), at).applied
    return run_id


@pytest.fixture
def firm_client(session: Session) -> tuple[int, int]:
    firm_id = add_firm(session)
    (client_id,) = add_clients(session, firm_id, 1)
    return firm_id, client_id


def test_success_sets_last_success_and_login_ok(
    session: Session, firm_client: tuple[int, int]
) -> None:
    firm_id, client_id = firm_client
    run_id = finish(session, firm_id, "succeeded")
    state = module_state(session, client_id)[("verify_ldc", "traces")]
    assert state.firm_id == firm_id
    assert (state.last_attempt_at, state.last_status, state.last_error_code) == (
        NOW,
        "succeeded",
        None,
    )
    assert (state.last_run_id, state.last_success_at, state.last_success_run_id) == (
        run_id,
        NOW,
        run_id,
    )
    login = session.get(ClientLoginState, (client_id, "traces"))
    assert login is not None
    assert (login.state, login.observed_at, login.run_id) == ("ok", NOW, run_id)


def test_failure_after_success_keeps_the_last_success(
    session: Session, firm_client: tuple[int, int]
) -> None:
    firm_id, client_id = firm_client
    good_run = finish(session, firm_id, "succeeded")
    bad_run = finish(session, firm_id, "failed", "portal_server_error", at=LATER)
    state = module_state(session, client_id)[("verify_ldc", "traces")]
    assert (state.last_attempt_at, state.last_status, state.last_error_code) == (
        LATER,
        "failed",
        "portal_server_error",
    )
    assert state.last_run_id == bad_run
    assert (state.last_success_at, state.last_success_run_id) == (NOW, good_run)
    assert login_state(session, client_id) == {"traces": "ok"}  # says nothing of the login


def test_success_after_failure_clears_the_error_code(
    session: Session, firm_client: tuple[int, int]
) -> None:
    firm_id, client_id = firm_client
    finish(session, firm_id, "failed", "portal_timeout")
    run_id = finish(session, firm_id, "succeeded", at=LATER)
    state = module_state(session, client_id)[("verify_ldc", "traces")]
    assert (state.last_status, state.last_error_code, state.last_success_run_id) == (
        "succeeded",
        None,
        run_id,
    )
    assert state.last_success_at == LATER


@pytest.mark.parametrize(
    ("code", "verdict"), [("invalid_credentials", "rejected"), ("locked", "locked")]
)
def test_refused_credentials_set_the_login_state(
    session: Session, firm_client: tuple[int, int], code: str, verdict: str
) -> None:
    firm_id, client_id = firm_client
    finish(session, firm_id, "succeeded")
    run_id = finish(session, firm_id, "failed", code, at=LATER)
    login = session.get(ClientLoginState, (client_id, "traces"), populate_existing=True)
    assert login is not None
    assert (login.state, login.observed_at, login.run_id) == (verdict, LATER, run_id)
    state = module_state(session, client_id)[("verify_ldc", "traces")]
    assert (state.last_status, state.last_error_code) == ("failed", code)
    # the next success says the (new) credentials work again
    finish(session, firm_id, "succeeded", at=LATER + timedelta(hours=1))
    assert login_state(session, client_id) == {"traces": "ok"}


@pytest.mark.parametrize(
    "code",
    ["portal_server_error", "portal_timeout", "missing_credentials", "invalid_records", None],
)
def test_other_failures_leave_the_login_state(
    session: Session, firm_client: tuple[int, int], code: str | None
) -> None:
    firm_id, client_id = firm_client
    finish(session, firm_id, "failed", code)
    assert login_state(session, client_id) == {}  # nothing judged, nothing written
    finish(session, firm_id, "failed", "invalid_credentials", at=LATER)
    finish(session, firm_id, "failed", code, at=LATER + timedelta(minutes=5))
    assert login_state(session, client_id) == {"traces": "rejected"}
    state = module_state(session, client_id)[("verify_ldc", "traces")]
    assert (state.last_status, state.last_error_code) == ("failed", code)
    assert state.last_success_at is None


def test_skipped_item_changes_nothing(session: Session, firm_client: tuple[int, int]) -> None:
    firm_id, client_id = firm_client
    run_id, item_id = one_item(session, firm_id)
    assert apply_outcome(session, outcome(item_id, run_id, "skipped"), NOW).applied
    assert item(session, item_id).status == ItemStatus.SKIPPED
    assert module_state(session, client_id) == {}
    assert login_state(session, client_id) == {}


def test_cancelled_items_change_nothing(session: Session, firm_client: tuple[int, int]) -> None:
    firm_id, client_id = firm_client
    finish(session, firm_id, "succeeded")
    before = {
        k: (s.last_attempt_at, s.last_run_id) for k, s in module_state(session, client_id).items()
    }
    run_id, item_id = one_item(session, firm_id)
    cancel_run(session, firm_id, run_id, LATER)
    assert item(session, item_id).status == ItemStatus.CANCELLED
    assert not apply_outcome(session, outcome(item_id, run_id, "succeeded"), LATER).applied
    after = {
        k: (s.last_attempt_at, s.last_run_id) for k, s in module_state(session, client_id).items()
    }
    assert after == before


@pytest.mark.parametrize(
    "status", [ItemStatus.SKIPPED, ItemStatus.CANCELLED, ItemStatus.PENDING, ItemStatus.RUNNING]
)
def test_note_attempt_ignores_statuses_that_were_never_attempted(
    session: Session, firm_client: tuple[int, int], status: ItemStatus
) -> None:
    firm_id, client_id = firm_client
    run_id, _ = one_item(session, firm_id)
    attempt = Attempted(firm_id, client_id, "verify_ldc", "traces", run_id, status, "locked")
    note_attempt(session, attempt, NOW)
    assert module_state(session, client_id) == {}
    assert login_state(session, client_id) == {}


def test_duplicate_outcome_does_not_move_the_state(
    session: Session, firm_client: tuple[int, int]
) -> None:
    firm_id, client_id = firm_client
    run_id, item_id = one_item(session, firm_id)
    message = outcome(item_id, run_id, "succeeded")
    assert apply_outcome(session, message, NOW).applied
    assert not apply_outcome(session, message, LATER).applied
    assert module_state(session, client_id)[("verify_ldc", "traces")].last_attempt_at == NOW


def test_each_part_of_notices_orders_has_its_own_row(
    session: Session, firm_client: tuple[int, int]
) -> None:
    firm_id, client_id = firm_client
    created = start_run(session, firm_id, [ModuleKey.NOTICES_ORDERS])
    itportal_item, traces_item = item_ids(session, created.run_id)
    assert item(session, itportal_item).portal == "itportal"
    apply_outcome(session, outcome(itportal_item, created.run_id, "succeeded"), NOW)
    apply_outcome(
        session,
        outcome(traces_item, created.run_id, "failed", error_code="invalid_credentials"),
        NOW,
    )
    states = module_state(session, client_id)
    assert set(states) == {("notices_orders", "itportal"), ("notices_orders", "traces")}
    assert states[("notices_orders", "itportal")].last_success_at == NOW
    assert states[("notices_orders", "traces")].last_success_at is None
    assert login_state(session, client_id) == {"itportal": "ok", "traces": "rejected"}


def test_records_outcome_is_noted_like_any_success(
    session: Session, firm_client: tuple[int, int]
) -> None:
    firm_id, client_id = firm_client
    run_id, item_id = one_item(session, firm_id, [ModuleKey.FETCH_CHALLANS])
    apply_outcome(session, outcome(item_id, run_id, records=[challan("00001")]), NOW)
    state = module_state(session, client_id)[("fetch_challans", "itportal")]
    assert (state.last_status, state.last_success_run_id) == ("succeeded", run_id)
    assert login_state(session, client_id) == {"itportal": "ok"}


def test_an_undecodable_batch_is_noted_as_the_failure_it_became(
    session: Session, firm_client: tuple[int, int]
) -> None:
    firm_id, client_id = firm_client
    run_id, item_id = one_item(session, firm_id, [ModuleKey.FETCH_CHALLANS])
    bad = outcome(item_id, run_id).model_copy(update={"records": [{"type": "Nope"}]})
    apply_outcome(session, bad, NOW)
    state = module_state(session, client_id)[("fetch_challans", "itportal")]
    assert (state.last_status, state.last_error_code) == ("failed", "invalid_records")
    assert login_state(session, client_id) == {}


def test_reaper_timed_out_failure_is_noted(session_factory: SessionFactory) -> None:
    settings = Settings(max_item_releases=0, item_queued_timeout_seconds=60)
    with unit_of_work(session_factory) as session:
        firm_id = add_firm(session)
        (client_id,) = add_clients(session, firm_id, 1)
        run_id = start_run(session, firm_id, LDC).run_id
    dispatch_tick(
        session_factory,
        FakePublisher(),
        {"traces": 10, "itportal": 10},
        NOW,
        queued_timeout=timedelta(seconds=60),
    )
    report = reap(session_factory, None, NOW + timedelta(minutes=5), settings)
    assert report.failed == 1
    with unit_of_work(session_factory) as session:
        state = module_state(session, client_id)[("verify_ldc", "traces")]
        assert (state.last_status, state.last_error_code, state.last_run_id) == (
            "failed",
            "timed_out",
            run_id,
        )
        assert state.last_attempt_at == NOW + timedelta(minutes=5)
        assert state.last_success_at is None
        assert login_state(session, client_id) == {}


def test_forget_login_state_deletes_only_the_named_portals(
    session: Session, firm_client: tuple[int, int]
) -> None:
    firm_id, client_id = firm_client
    (other_id,) = add_clients(session, firm_id, 1, start=1)
    run_id, _ = one_item(session, firm_id)
    for who in (client_id, other_id):
        for portal in Portal:
            note_attempt(
                session,
                Attempted(firm_id, who, "x", portal.value, run_id, ItemStatus.SUCCEEDED, None),
                NOW,
            )
    forget_login_state(session, client_id, [])
    assert login_state(session, client_id) == {"traces": "ok", "itportal": "ok"}
    forget_login_state(session, client_id, ["traces"])
    assert login_state(session, client_id) == {"itportal": "ok"}
    assert login_state(session, other_id) == {"traces": "ok", "itportal": "ok"}
    # the module state is history, not a verdict on the credentials: it stays
    assert set(module_state(session, client_id)) == {("x", "traces"), ("x", "itportal")}


def test_csv_import_of_new_credentials_forgets_that_portals_login_state(
    session: Session, cipher: CredentialCipher
) -> None:
    firm_id = add_firm(session)
    first = f"{HEADER}\nAcme,DELA12345B,ABCCA1234F,DELA12345B,pw-t,DELA12345B,pw-i\n"
    import_clients_csv(session, firm_id, io.StringIO(first), cipher)
    client_id = session.scalars(sa.select(Client.id).where(Client.firm_id == firm_id)).one()
    run_id, _ = one_item(session, firm_id)
    for portal, status, code in (
        ("traces", ItemStatus.FAILED, "invalid_credentials"),
        ("itportal", ItemStatus.FAILED, "locked"),
    ):
        note_attempt(session, Attempted(firm_id, client_id, "m", portal, run_id, status, code), NOW)
    name_only = f"{HEADER}\nAcme Renamed,DELA12345B,ABCCA1234F,,,,\n"
    import_clients_csv(session, firm_id, io.StringIO(name_only), cipher)
    assert login_state(session, client_id) == {"traces": "rejected", "itportal": "locked"}
    new_traces = f"{HEADER}\nAcme,DELA12345B,ABCCA1234F,DELA12345B,pw-new,,\n"
    import_clients_csv(session, firm_id, io.StringIO(new_traces), cipher)
    assert login_state(session, client_id) == {"itportal": "locked"}
