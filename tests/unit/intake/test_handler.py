"""One request -> one decision: runs, answers and idempotency on a real (SQLite) database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from syncbucket.crypto import CredentialCipher
from syncbucket.db.outbox import OutboxEvent
from syncbucket.db.runs import Run
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.intake import integration_secrets
from syncbucket.intake.handler import RequestHandler, default_idempotency_key
from syncbucket.intake.publisher import build_request, encode
from syncbucket.intake.rejections import RequestIdentity
from syncbucket.pipeline import events
from syncbucket.pipeline.events import CONTENT_TYPE
from tests.support.pipeline import NOW, add_clients, add_firm, tan_for

GRACE = timedelta(hours=24)


class Firms:
    def __init__(self, sessions: SessionFactory, cipher: CredentialCipher) -> None:
        self.sessions = sessions
        with unit_of_work(sessions) as session:
            self.a = add_firm(session, "A")
            self.b = add_firm(session, "B")
            add_clients(session, self.a, 3)
            add_clients(session, self.b, 1, start=100)
            self.secret_a = integration_secrets.issue(session, cipher, self.a, NOW, grace=GRACE)
            self.secret_b = integration_secrets.issue(session, cipher, self.b, NOW, grace=GRACE)
        self.handler = RequestHandler(sessions, cipher, max_bytes=100_000, clock=lambda: NOW)

    def send(
        self, data: dict[str, Any], *, firm: int | None = None, secret: str | None = None, **kw: Any
    ) -> Any:
        event = build_request(
            firm_id=firm or self.a, data=data, secret=secret or self.secret_a, now=NOW, **kw
        )
        return self.handler.handle(encode(event), CONTENT_TYPE)

    def runs(self) -> list[Run]:
        with self.sessions() as session:
            return list(session.scalars(sa.select(Run).order_by(Run.id)))

    def answers(self) -> list[OutboxEvent]:
        wanted = (events.SYNC_ACCEPTED.type, events.SYNC_REJECTED.type)
        with self.sessions() as session:
            query = sa.select(OutboxEvent).where(OutboxEvent.event_type.in_(wanted))
            return list(session.scalars(query.order_by(OutboxEvent.id)))


def _firms(session_factory: SessionFactory, cipher: CredentialCipher) -> Firms:
    return Firms(session_factory, cipher)


def test_an_accepted_request_makes_a_run_and_one_answer(
    session_factory: SessionFactory, cipher: CredentialCipher
) -> None:
    firms = _firms(session_factory, cipher)
    decision = firms.send(
        {"clients": {"tans": [tan_for(0)]}, "modules": ["verify_ldc"], "requested_by": "pm"},
        event_id="e-1",
        source="/pm",
    )
    assert decision.accepted is not None and decision.accepted.created
    (run,) = firms.runs()
    assert (run.firm_id, run.source, run.total_items, run.requested_by) == (
        firms.a,
        "event",
        1,
        "pm",
    )
    assert run.idempotency_key == "event:/pm:e-1"
    (answer,) = firms.answers()
    event = events.cloud_event(answer)
    assert event["type"] == "syncbucket.sync.accepted"
    assert event["correlationid"] == "e-1"
    assert (event["data"]["run_id"], event["subject"]) == (run.id, f"runs/{run.id}")


def test_the_same_request_twice_is_one_run_answered_twice_with_one_id(
    session_factory: SessionFactory, cipher: CredentialCipher
) -> None:
    firms = _firms(session_factory, cipher)
    data = {"clients": "all", "modules": "all"}
    first = firms.send(data, event_id="same")
    second = firms.send(data, event_id="same")
    assert first.accepted.run_id == second.accepted.run_id
    assert len(firms.runs()) == 1
    (answer,) = firms.answers()  # the same row, queued to be sent again
    assert answer.sent_at is None


def test_a_resent_request_with_the_same_key_names_the_first_run(
    session_factory: SessionFactory, cipher: CredentialCipher
) -> None:
    firms = _firms(session_factory, cipher)
    data = {"clients": "all", "modules": ["verify_ldc"], "idempotency_key": "nightly-2026-12-02"}
    first = firms.send(data, event_id="one")
    again = firms.send(data, event_id="two")
    assert (again.accepted.run_id, again.accepted.created) == (first.accepted.run_id, False)
    assert [a.payload["created"] for a in firms.answers()] == [True, False]


def test_unknown_tans_are_listed_and_nothing_is_created(
    session_factory: SessionFactory, cipher: CredentialCipher
) -> None:
    firms = _firms(session_factory, cipher)
    decision = firms.send(
        {"clients": {"tans": [tan_for(0), "ZZZZ99999Z"]}, "modules": "all"}, event_id="bad-tan"
    )
    rejection = decision.rejection
    assert rejection is not None and rejection.reason == "unknown_clients"
    assert rejection.details["unknown_tans"] == ["ZZZZ99999Z"]
    assert firms.runs() == []
    (answer,) = firms.answers()
    assert answer.payload["reason"] == "unknown_clients"
    assert answer.attributes == {"correlationid": "bad-tan"}


def test_a_request_proves_its_firm_or_creates_nothing(
    session_factory: SessionFactory, cipher: CredentialCipher
) -> None:
    firms = _firms(session_factory, cipher)
    data = {"clients": "all", "modules": "all"}
    cases = [
        firms.send(data, secret="sbi_guessed"),  # a wrong secret
        firms.send(data, firm=firms.a, secret=firms.secret_b),  # firm B's secret, naming A
        firms.send(data, firm=999, secret=firms.secret_a),  # a firm that does not exist
    ]
    assert [c.rejection.reason for c in cases] == ["unauthorised"] * 3
    assert all(firms.secret_a not in c.rejection.message for c in cases)
    assert firms.runs() == []


def test_a_rotated_secret_works_through_its_grace_then_stops(
    session_factory: SessionFactory, cipher: CredentialCipher
) -> None:
    firms = _firms(session_factory, cipher)
    old = firms.secret_a
    with unit_of_work(session_factory) as session:
        new = integration_secrets.issue(session, cipher, firms.a, NOW, grace=GRACE)
    data = {"clients": "all", "modules": ["verify_ldc"]}
    assert firms.send(data, secret=old, event_id="old").accepted is not None
    assert firms.send(data, secret=new, event_id="new").accepted is not None
    later = RequestHandler(session_factory, cipher, max_bytes=100_000, clock=lambda: NOW + GRACE)
    event = build_request(firm_id=firms.a, data=data, secret=old, event_id="late")
    assert later.handle(encode(event), CONTENT_TYPE).rejection.reason == "unauthorised"


def test_schema_violations_name_the_field(
    session_factory: SessionFactory, cipher: CredentialCipher
) -> None:
    firms = _firms(session_factory, cipher)
    decision = firms.send({"clients": "all", "modules": ["teleport"], "priority": 99})
    rejection = decision.rejection
    assert rejection is not None and rejection.reason == "invalid_request"
    assert "data.modules" in rejection.message and "teleport" in rejection.message
    assert "data.priority" in rejection.message


def test_the_default_key_stays_within_the_column() -> None:
    short = RequestIdentity(event_id="1", source="/pm")
    assert default_idempotency_key(short) == "event:/pm:1"
    long = RequestIdentity(event_id="x" * 200, source="/" + "s" * 400)
    assert len(default_idempotency_key(long)) <= 200
