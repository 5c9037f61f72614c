"""The consumer example in docs/events.md, run as it stands against real events."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from syncbucket.crypto import CredentialCipher
from syncbucket.db.session import SessionFactory
from syncbucket.messaging.publishers import RabbitEventPublisher
from tests.integration.intake.conftest import Intake
from tests.unit.contracts.test_event_contracts import _every_kind_of_event

pytestmark = [pytest.mark.integration]

DOC = Path(__file__).resolve().parents[3] / "docs" / "events.md"


def _example() -> str:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- example:consumer -->\s*```python\n(.*?)```", text, re.S)
    assert found, "no consumer example in docs/events.md"
    return found.group(1)


def test_the_docs_consumer_prints_each_event_once(
    intake: Intake, session_factory: SessionFactory, cipher: CredentialCipher, tmp_path: Path
) -> None:
    code = _example()
    assert len(code.strip().splitlines()) <= 35
    script = tmp_path / "consumer.py"
    script.write_text(code, encoding="utf-8")
    env = {**os.environ, "AMQP_URL": intake.broker_url}
    consumer = subprocess.Popen(
        [sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        time.sleep(1.5)  # its queue is declared and bound
        emitted = _every_kind_of_event(session_factory, cipher)  # real events (SQLite)
        publisher = RabbitEventPublisher(intake.broker_url)
        for event in [*emitted, *emitted]:  # every event twice: at-least-once delivery
            kind = str(event["type"]).removeprefix("syncbucket.")
            publisher.publish(kind, event)
        publisher.close()
        expected = [e for e in emitted if e["type"] == "syncbucket.client.changed"]
        wanted = sum(len(e["data"]["highlights"]) for e in expected) + 1  # + the run's end
        lines: list[str] = []
        deadline = time.monotonic() + 20
        assert consumer.stdout is not None
        while len(lines) < wanted and time.monotonic() < deadline:
            lines.append(consumer.stdout.readline().strip())
    finally:
        consumer.terminate()
        consumer.wait(10)
    run_id = next(e for e in emitted if e["type"] == "syncbucket.run.completed")["data"]["run_id"]
    assert f"run {run_id} completed_with_errors" in lines
    assert any(re.fullmatch(r"BLRA\d{5}A new notice \S+", line) for line in lines)
    assert len(lines) == len(set(lines)) == wanted  # each once, though sent twice
