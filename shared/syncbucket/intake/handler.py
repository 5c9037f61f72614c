"""One sync request -> one decision, committed before the message may be acknowledged.

Accepting is ONE transaction: the signature is checked against the firm's live secrets,
``data`` is validated, the run is created exactly as ``POST /api/v1/runs`` creates it
(source ``event``; its idempotency key is ``data.idempotency_key`` or else made of the
event's ``source`` and ``id``), and the ``sync.accepted`` answer is written to the
outbox. Any refusal rolls that back -- nothing is created -- and a second transaction
writes the ``sync.rejected`` answer. An outage of the database raises out of
:meth:`RequestHandler.handle` untouched: the consumer then leaves the message on the
queue, and its redelivery is decided afresh (idempotency makes it one run).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy.orm import Session

from syncbucket.contracts.run_selection import (
    ClientSelection,
    FilterSelection,
    module_keys,
)
from syncbucket.contracts.sync_request import SyncRequestData
from syncbucket.crypto import CredentialCipher
from syncbucket.db.base import utcnow
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.domain.runs import RunSource
from syncbucket.intake import answers, envelope, integration_secrets, signing
from syncbucket.intake.answers import Accepted
from syncbucket.intake.rejections import Reason, RequestIdentity, RequestRejected
from syncbucket.metrics import record
from syncbucket.pipeline.errors import RunRefused
from syncbucket.pipeline.requests import RunRequest
from syncbucket.pipeline.runs import create_run

log = logging.getLogger(__name__)

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Decision:
    """Exactly one of the two is set."""

    accepted: Accepted | None = None
    rejection: RequestRejected | None = None


def default_idempotency_key(identity: RequestIdentity) -> str:
    """``event:<source>:<id>``; a digest of the two when that would be too long."""
    key = f"event:{identity.source}:{identity.event_id}"
    if len(key) <= MAX_KEY_LENGTH:
        return key
    digest = hashlib.sha256(f"{identity.source}\n{identity.event_id}".encode()).hexdigest()
    return f"event:sha256:{digest}"


def describe(exc: ValidationError) -> str:
    """``data.clients.tans.0: ...; data.modules: ...`` -- every problem, by its path."""
    problems = []
    for error in exc.errors()[:10]:
        path = ".".join(str(part) for part in ("data", *error["loc"]))
        problems.append(f"{path}: {str(error['msg']).removeprefix('Value error, ')}")
    return "; ".join(problems)


def run_request(
    firm_id: int, data: SyncRequestData, key: str, identity: RequestIdentity
) -> RunRequest:
    clients = data.clients
    return RunRequest(
        firm_id=firm_id,
        modules=module_keys(data.modules),
        client_ids=clients.ids if isinstance(clients, ClientSelection) else None,
        tans=clients.tans if isinstance(clients, ClientSelection) else None,
        client_filter=clients.parsed() if isinstance(clients, FilterSelection) else None,
        excluded_client_ids=clients.exclude_ids if isinstance(clients, FilterSelection) else None,
        source=RunSource.EVENT,
        idempotency_key=key,
        priority=data.priority,
        requested_by=data.requested_by or identity.source,
    )


class RequestHandler:
    def __init__(
        self,
        sessions: SessionFactory,
        cipher: CredentialCipher,
        *,
        max_bytes: int,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._cipher = cipher
        self._max_bytes = max_bytes
        self._clock = clock

    def handle(self, body: bytes, content_type: str | None) -> Decision:
        """Decide and commit; raises only when the database cannot be reached."""
        now = self._clock()
        try:
            checked = envelope.check(body, content_type, max_bytes=self._max_bytes)
            with unit_of_work(self._sessions) as session:
                accepted = self._accept(session, checked, body, now)
        except RequestRejected as rejection:
            return self.reject(rejection, body)
        record.request_accepted(accepted.created)
        log.info(
            "sync request %s of firm %s accepted: run %s (%s)",
            checked.identity.event_id,
            checked.firm_id,
            accepted.run_id,
            "new" if accepted.created else "existing",
        )
        return Decision(accepted=accepted)

    def reject(self, rejection: RequestRejected, body: bytes) -> Decision:
        """Write the rejection's answer (its own transaction) and count it."""
        with unit_of_work(self._sessions) as session:
            answers.write_rejected(session, rejection, body, self._clock())
        record.request_rejected(rejection.reason)
        log.warning(
            "sync request %s rejected (%s): %s",
            rejection.identity.event_id,
            rejection.reason,
            rejection.message,
        )
        return Decision(rejection=rejection)

    def _accept(
        self, session: Session, checked: envelope.CheckedRequest, body: bytes, now: datetime
    ) -> Accepted:
        identity = checked.identity
        live = integration_secrets.live_secrets(session, self._cipher, checked.firm_id, now)
        if not signing.verify(checked.event, live):
            raise RequestRejected(
                Reason.UNAUTHORISED.value,
                f"the signature does not prove firm {checked.firm_id}: sign with that firm's "
                "current integration secret (syncbucket firms integration-secret)",
                identity=identity,
            )
        try:
            data = SyncRequestData.model_validate(checked.data)
        except ValidationError as exc:
            raise RequestRejected(
                Reason.INVALID_REQUEST.value, describe(exc), identity=identity
            ) from None
        key = data.idempotency_key or default_idempotency_key(identity)
        try:
            created = create_run(
                session, run_request(checked.firm_id, data, key, identity), now=now
            )
        except RunRefused as refused:
            raise RequestRejected(
                refused.code, refused.message, details=refused.details, identity=identity
            ) from None
        accepted = Accepted(created.run_id, created.total_items, created.created, key)
        answers.write_accepted(session, identity, body, accepted, now)
        return accepted
