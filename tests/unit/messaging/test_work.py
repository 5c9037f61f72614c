"""``process_work`` against the in-process portal simulator and a SQLite database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from syncbucket.contracts.messages import OutcomeMessage, WorkMessage
from syncbucket.db.base import utcnow
from syncbucket.db.session import unit_of_work
from syncbucket.domain.portals import ModuleKey, Portal
from syncbucket.domain.runs import ItemStatus
from syncbucket.pipeline import record_codec
from syncbucket.pipeline.aggregator import apply_outcome
from syncbucket.pipeline.retry_policy import RetryDecision
from syncbucket.pipeline.work import Attempt, NotRunnable, WorkDeps, process_work
from syncbucket.portalsim.accounts import demo_password, wrong_password
from syncbucket.portalsim.server import RunningSimulator
from tests.support.messaging_world import World

M = ModuleKey


def first(message: WorkMessage, number: int = 1) -> Attempt:
    return Attempt(number=number, first_started_at=utcnow())


def logins(sim: RunningSimulator, portal: str) -> dict[str, Any]:
    result: dict[str, Any] = sim.stats()["portals"][portal]["logins"]
    return result


def test_success_returns_the_records_and_marks_the_item_running(
    world: World, deps: WorkDeps
) -> None:
    client_id, _ = world.add_client()
    _, [message] = world.start_run([client_id], [M.RETURN_SUMMARY])
    result = process_work(deps, message, first(message))
    assert isinstance(result, OutcomeMessage)
    assert (result.status, result.attempts, result.error_code) == ("succeeded", 1, None)
    records = record_codec.decode_all(result.records)
    assert records and all(type(r).__name__ == "StatementStatus" for r in records)
    item = world.item(message.item_id)
    assert item.status == ItemStatus.RUNNING and item.attempts == 1
    assert item.started_at is not None and item.deadline_at is not None
    assert item.deadline_at > item.started_at + timedelta(seconds=30)


def test_missing_credentials_fail_at_once_telling_what_to_add(
    world: World, deps: WorkDeps, sim: RunningSimulator
) -> None:
    client_id, tan = world.add_client(missing=[Portal.ITPORTAL])
    _, [message] = world.start_run([client_id], [M.FETCH_CHALLANS])
    result = process_work(deps, message, first(message))
    assert isinstance(result, OutcomeMessage)
    assert (result.status, result.error_code) == ("failed", "missing_credentials")
    assert tan in (result.error_message or "")
    assert "add the IT portal user id and password" in (result.error_message or "")
    assert sim.stats()["portals"]["itportal"]["requests"]["total"] == 0


def test_rejected_login_fails_the_clients_other_items_without_another_login(
    world: World, deps: WorkDeps, sim: RunningSimulator
) -> None:
    client_id, tan = world.add_client(wrong=[Portal.TRACES])
    other_id, _ = world.add_client()
    modules = [M.RETURN_SUMMARY, M.OUTSTANDING_DEMAND, M.VERIFY_LDC]
    _, messages = world.start_run([client_id, other_id], modules)
    mine = [m for m in messages if m.client_id == client_id]
    outcomes = [process_work(deps, m, first(m)) for m in mine]
    assert all(isinstance(o, OutcomeMessage) for o in outcomes)
    assert {(o.status, o.error_code) for o in outcomes if isinstance(o, OutcomeMessage)} == {
        ("failed", "invalid_credentials")
    }
    assert logins(sim, "traces")["rejected"] == 1
    assert logins(sim, "traces")["attempted"] == 1
    for outcome in outcomes:
        text = outcome.model_dump_json() if isinstance(outcome, OutcomeMessage) else ""
        assert wrong_password(Portal.TRACES, tan) not in text
        assert demo_password(Portal.TRACES, tan) not in text
    # Another client of the same run is not affected.
    theirs = next(m for m in messages if m.client_id == other_id)
    result = process_work(deps, theirs, first(theirs))
    assert isinstance(result, OutcomeMessage) and result.status == "succeeded"


def test_a_rejection_in_one_run_does_not_block_the_next_run(
    world: World, deps: WorkDeps, sim: RunningSimulator
) -> None:
    client_id, _ = world.add_client(wrong=[Portal.TRACES])
    _, [message] = world.start_run([client_id], [M.RETURN_SUMMARY])
    process_work(deps, message, first(message))
    _, [again] = world.start_run([client_id], [M.RETURN_SUMMARY])
    process_work(deps, again, first(again))
    assert logins(sim, "traces")["rejected"] == 2


def test_session_is_reused_across_modules_of_one_client(
    world: World, deps: WorkDeps, sim: RunningSimulator
) -> None:
    client_id, _ = world.add_client()
    modules = [M.RETURN_SUMMARY, M.UNCONSUMED_CHALLANS, M.OUTSTANDING_DEMAND]
    _, messages = world.start_run([client_id], modules)
    results = [process_work(deps, m, first(m)) for m in messages]
    assert [r.status for r in results if isinstance(r, OutcomeMessage)] == ["succeeded"] * 3
    assert logins(sim, "traces")["attempted"] == 1


def test_maintenance_defers_without_counting_an_attempt(
    world: World, deps: WorkDeps, sim: RunningSimulator
) -> None:
    sim.set_faults("traces", maintenance=True, maintenance_retry_after_seconds=42)
    client_id, _ = world.add_client()
    _, [message] = world.start_run([client_id], [M.RETURN_SUMMARY])
    before = utcnow()
    result = process_work(deps, message, first(message, number=2))
    assert isinstance(result, RetryDecision)
    assert (result.delay_seconds, result.counts_as_attempt) == (42.0, False)
    assert result.error.code == "portal_maintenance"
    item = world.item(message.item_id)
    assert item.status == ItemStatus.QUEUED  # parked while the retry waits
    assert item.deadline_at is not None and item.deadline_at > before + timedelta(seconds=42)


def test_maintenance_past_the_defer_limit_is_final(
    world: World, deps: WorkDeps, sim: RunningSimulator
) -> None:
    sim.set_faults("traces", maintenance=True)
    client_id, _ = world.add_client()
    _, [message] = world.start_run([client_id], [M.RETURN_SUMMARY])
    long_ago = Attempt(number=1, first_started_at=utcnow() - timedelta(hours=2))
    result = process_work(deps, message, long_ago)
    assert isinstance(result, OutcomeMessage)
    assert (result.status, result.error_code, result.attempts) == (
        "failed",
        "portal_maintenance",
        1,
    )


def test_transient_errors_retry_until_max_attempts_then_fail_with_the_count(
    world: World, deps: WorkDeps, sim: RunningSimulator
) -> None:
    sim.set_faults("itportal", error_5xx_rate=1.0)
    client_id, _ = world.add_client()
    _, [message] = world.start_run([client_id], [M.FETCH_CHALLANS])
    retry = process_work(deps, message, first(message, number=1))
    assert isinstance(retry, RetryDecision) and retry.counts_as_attempt
    assert retry.error.code == "portal_server_error"
    assert 0.01 <= retry.delay_seconds <= 0.02
    final = process_work(deps, message, first(message, number=3))  # max_attempts = 3
    assert isinstance(final, OutcomeMessage)
    assert (final.status, final.error_code, final.attempts) == (
        "failed",
        "portal_server_error",
        3,
    )
    assert "gave up after 3 attempts" in (final.error_message or "")


def test_a_finished_or_unknown_item_is_not_run(
    world: World, deps: WorkDeps, sim: RunningSimulator
) -> None:
    client_id, _ = world.add_client()
    _, [message] = world.start_run([client_id], [M.RETURN_SUMMARY])
    outcome = process_work(deps, message, first(message))
    assert isinstance(outcome, OutcomeMessage)
    with unit_of_work(deps.sessions) as session:
        assert apply_outcome(session, outcome, utcnow()).applied
    requests = sim.stats()["portals"]["traces"]["requests"]["total"]
    assert isinstance(process_work(deps, message, first(message)), NotRunnable)
    unknown = message.model_copy(update={"item_id": message.item_id + 999})
    assert isinstance(process_work(deps, unknown, first(unknown)), NotRunnable)
    assert sim.stats()["portals"]["traces"]["requests"]["total"] == requests
    assert world.item(message.item_id).status == ItemStatus.SUCCEEDED
