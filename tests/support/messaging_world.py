"""A small world for worker-side tests: a firm, clients with simulator credentials, runs.

Runs are created and released with the pipeline's own ``create_run`` and
``dispatch_tick`` (the dispatcher's path), so items are ``queued`` exactly as in production.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from syncbucket.clientmaster.demo_clients import demo_client
from syncbucket.contracts.messages import WorkMessage
from syncbucket.crypto import CredentialCipher, PortalCredentials
from syncbucket.db.base import utcnow
from syncbucket.db.clients import Client, ClientCredential
from syncbucket.db.firms import Firm
from syncbucket.db.items import Item
from syncbucket.db.outbox import OutboxEvent
from syncbucket.db.outcomes import Outcome
from syncbucket.db.runs import Run
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.domain.portals import ModuleKey, Portal
from syncbucket.domain.runs import RunSource
from syncbucket.pipeline.dispatcher import WorkPublisher, dispatch_tick
from syncbucket.pipeline.requests import RunRequest
from syncbucket.pipeline.runs import create_run
from syncbucket.portalsim.accounts import demo_password, demo_user_id, wrong_password

WIDE_WINDOWS = {portal.value: 1000 for portal in Portal}


class CapturingPublisher:
    """A WorkPublisher that keeps what it was given, then hands it on to ``inner`` if any."""

    def __init__(self, inner: WorkPublisher | None = None) -> None:
        self.messages: list[WorkMessage] = []
        self._inner = inner

    def publish(self, messages: Sequence[WorkMessage]) -> None:
        self.messages.extend(messages)
        if self._inner is not None:
            self._inner.publish(messages)


@dataclass
class World:
    sessions: SessionFactory
    cipher: CredentialCipher
    firm_id: int = 0
    next_index: int = field(default=0)

    @classmethod
    def create(cls, sessions: SessionFactory, cipher: CredentialCipher) -> World:
        with unit_of_work(sessions) as session:
            firm = Firm(name=f"Firm {uuid.uuid4().hex[:8]}")
            session.add(firm)
            session.flush()
            return cls(sessions, cipher, firm.id)

    def add_client(
        self, *, wrong: Iterable[Portal] = (), missing: Iterable[Portal] = ()
    ) -> tuple[int, str]:
        """A client with simulator credentials (wrong or missing on the given portals)."""
        demo = demo_client(self.next_index)
        self.next_index += 1
        wrong_set, missing_set = set(wrong), set(missing)
        with unit_of_work(self.sessions) as session:
            client = Client(firm_id=self.firm_id, name=demo.name, tan=demo.tan, pan=demo.pan)
            session.add(client)
            session.flush()
            for portal in (p for p in Portal if p not in missing_set):
                password = (wrong_password if portal in wrong_set else demo_password)(
                    portal, demo.tan
                )
                credentials = PortalCredentials(demo_user_id(portal, demo.tan), password)
                session.add(
                    ClientCredential(
                        client_id=client.id,
                        portal=portal.value,
                        secret=self.cipher.encrypt(credentials),
                    )
                )
            return client.id, demo.tan

    def start_run(
        self,
        client_ids: list[int],
        modules: list[ModuleKey],
        publisher: WorkPublisher | None = None,
    ) -> tuple[int, list[WorkMessage]]:
        """Create a run, release all its items (to ``publisher`` if given) and return them."""
        request = RunRequest(
            firm_id=self.firm_id, modules=modules, client_ids=client_ids, source=RunSource.CLI
        )
        with unit_of_work(self.sessions) as session:
            created = create_run(session, request)
        capture = CapturingPublisher(publisher)
        # The dispatcher passes over rows another transaction holds (SKIP LOCKED) and takes
        # them at its next tick; a loaded machine can need one more tick than usual.
        for _ in range(50):
            dispatch_tick(self.sessions, capture, WIDE_WINDOWS, utcnow())
            mine = [m for m in capture.messages if m.run_id == created.run_id]
            if len(mine) >= created.total_items:
                break
            time.sleep(0.05)
        return created.run_id, capture.messages

    def item(self, item_id: int) -> Item:
        with self.sessions() as session:
            found = session.get(Item, item_id)
            assert found is not None
            return found

    def run(self, run_id: int) -> Run:
        with self.sessions() as session:
            found = session.get(Run, run_id)
            assert found is not None
            return found

    def count(
        self,
        model: type[Outcome] | type[OutboxEvent],
        run_id: int | None = None,
        *,
        event_type: str | None = None,
    ) -> int:
        query = sa.select(sa.func.count()).select_from(model)
        if event_type is not None:
            query = query.where(OutboxEvent.event_type == event_type)
        if model is Outcome and run_id is not None:
            query = query.where(Outcome.run_id == run_id)
        if model is OutboxEvent and run_id is not None:
            query = query.where(OutboxEvent.payload["run_id"].as_integer() == run_id)
        with self.sessions() as session:
            return int(session.execute(query).scalar_one())
