"""An upstream system's view, on the real processes: issue a secret, send a signed request
with the reference publisher (the ``syncbucket`` CLI, as documented), get it accepted,
follow the run by its events, and see refusals answered and dead-lettered."""

from __future__ import annotations

import json
import os
import re
import subprocess
from typing import Any

import pytest

from syncbucket.clientmaster.demo_clients import demo_client
from syncbucket.clientmaster.seed import DEFAULT_DEMO_FIRM
from syncbucket_stack.plan import syncbucket_command
from tests.e2e.conftest import RunningStack, SeededDatabase
from tests.e2e.processes import Stack
from tests.e2e.rabbit import EventTap

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(240)]


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*syncbucket_command(), *args], env=env, capture_output=True, text=True, timeout=120
    )


def _lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_a_signed_request_runs_and_is_announced(
    e2e_stack: RunningStack, e2e_database: SeededDatabase, events: EventTap, stack_output: Stack
) -> None:
    env = dict(e2e_stack.stack.supervisor.specs[0].env)
    issued = _cli(env, "firms", "integration-secret", DEFAULT_DEMO_FIRM)
    assert issued.returncode == 0, issued.stderr
    found = re.search(r"firm id (\d+).*?secret.*?: (sbi_\S+)", issued.stdout, re.S)
    assert found, issued.stdout
    firm_id, secret = found.group(1), found.group(2)
    assert int(firm_id) == e2e_database.firm_id
    upstream = {**env, "SYNCBUCKET_INTEGRATION_SECRET": secret}
    upstream.pop("SYNCBUCKET_DATABASE_URL")  # an upstream system has no database access
    tans = [demo_client(n).tan for n in (0, 1, 2)]
    args = ["requests", "send", "--firm", firm_id, "--modules", "verify_ldc,outstanding_demand"]
    for tan in tans:
        args += ["--tan", tan]
    sent = _cli(upstream, *args, "--wait", "--json", "--timeout", "120")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    answer, completed = _lines(sent.stdout)
    assert answer["type"] == "syncbucket.sync.accepted" and answer["data"]["created"]
    run_id = answer["data"]["run_id"]
    assert completed["type"] == "syncbucket.run.completed"
    assert (completed["data"]["run_id"], completed["data"]["source"]) == (run_id, "event")
    assert completed["data"]["total_items"] == 6
    started = stack_output.wait_for(
        "run.started", lambda: events.of_type("syncbucket.run.started", run_id) or None, 30
    )
    assert len(started) == 1
    # The session's database may have synced these clients before: changes only if any
    # were found. Two relays publish, so they may come a moment after run.completed.
    found = completed["data"]["records_new"] + completed["data"]["records_changed"]
    if found:
        stack_output.wait_for(
            "client.changed",
            lambda: events.of_type("syncbucket.client.changed", run_id) or None,
            30,
        )
    changed = events.of_type("syncbucket.client.changed", run_id)
    assert {e["data"]["tan"] for e in changed} <= set(tans)
    assert bool(changed) == (found > 0)
    assert all(secret not in json.dumps(e) for _, e in events.events)

    again = _cli(upstream, *args, "--json", "--idempotency-key", answer["data"]["idempotency_key"])
    assert again.returncode == 0, again.stderr
    (same,) = _lines(again.stdout)
    assert (same["data"]["run_id"], same["data"]["created"]) == (run_id, False)

    refused = _cli(upstream, "requests", "send", "--firm", firm_id, "--tan", "ZZZZ99999Z",
                   "--modules", "all", "--json")  # fmt: skip
    assert refused.returncode == 1
    (rejection,) = _lines(refused.stdout)
    assert rejection["data"]["reason"] == "unknown_clients"
    forged = _cli({**upstream, "SYNCBUCKET_INTEGRATION_SECRET": "sbi_guess"}, *args, "--json")
    assert forged.returncode == 1
    assert _lines(forged.stdout)[0]["data"]["reason"] == "unauthorised"
    assert os.environ.get("SYNCBUCKET_INTEGRATION_SECRET") is None  # nothing leaked into ours
