"""At least 200 generated bad requests through the real consumer (hypothesis).

Every one must be answered (a ``sync.rejected`` row in the outbox, or -- for the rare
generated body that is a valid request -- ``sync.accepted``) and every rejected one
dead-lettered with an ``x-syncbucket-reason`` from the documented vocabulary; the
consumer must be alive after each, and a good request must still be accepted at the end.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pika
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncbucket.db.outbox import OutboxEvent
from syncbucket.intake.publisher import build_request, encode
from syncbucket.intake.rejections import ALL_REASONS
from syncbucket.intake.signing import sign
from syncbucket.pipeline import events
from syncbucket.pipeline.events import CONTENT_TYPE, REQUESTS_DEAD_QUEUE
from tests.integration.intake.conftest import MAX_BYTES, Intake

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXAMPLES = 220
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
ATTRIBUTES = [
    "specversion",
    "id",
    "source",
    "type",
    "datacontenttype",
    "firmid",
    "signature",
    "data",
]


def _envelope(intake: Intake) -> dict[str, Any]:
    return build_request(
        firm_id=intake.firm_a, data={"clients": "all", "modules": "all"}, secret=intake.secret_a
    )


@st.composite
def bad_bodies(draw: st.DrawFn, intake: Intake) -> tuple[bytes, str | None]:
    kind = draw(st.sampled_from(["bytes", "json", "mutated", "resigned", "content_type", "big"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300)), CONTENT_TYPE
    if kind == "json":
        return json.dumps(draw(json_values)).encode(), CONTENT_TYPE
    event = _envelope(intake)
    if kind == "mutated":  # an attribute dropped or replaced: signature or envelope breaks
        name = draw(st.sampled_from(ATTRIBUTES))
        if draw(st.booleans()):
            event.pop(name)
        else:
            event[name] = draw(json_values)
        return encode(event), CONTENT_TYPE
    if kind == "resigned":  # correctly signed, but data is whatever hypothesis makes
        event["data"] = draw(json_values)
        return encode(sign(event, intake.secret_a)), CONTENT_TYPE
    if kind == "content_type":
        shown = draw(st.sampled_from(["application/json", "text/plain", None, "application/xml"]))
        return encode(event), shown
    filler = "x" * (MAX_BYTES + draw(st.integers(1, 5000)))
    event["data"] = {"clients": "all", "modules": "all", "requested_by": filler}
    return encode(sign(event, intake.secret_a)), CONTENT_TYPE


def _wait_handled(intake: Intake, count: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while intake.service.consumer.handled < count:
        assert intake.service.alive(), "the request consumer died"
        assert time.monotonic() < deadline, "the request consumer did not take the request"
        time.sleep(0.005)


def _answers(intake: Intake) -> int:
    types = (events.SYNC_ACCEPTED.type, events.SYNC_REJECTED.type)
    with intake.sessions() as session:
        query = sa.select(sa.func.count()).where(OutboxEvent.event_type.in_(types))
        return int(session.scalar(query) or 0)


def test_generated_bad_requests_are_each_answered_and_never_stop_the_consumer(
    intake: Intake,
) -> None:
    bodies: set[bytes] = set()
    answers_before = _answers(intake)
    connection = pika.BlockingConnection(pika.URLParameters(intake.broker_url))
    channel = connection.channel()
    channel.confirm_delivery()
    from syncbucket.intake.topology import declare_consumer_side

    declare_consumer_side(channel)
    while channel.basic_get(REQUESTS_DEAD_QUEUE, auto_ack=True)[0] is not None:
        pass  # earlier tests' dead letters are theirs

    sent = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(case=bad_bodies(intake))
    def one(case: tuple[bytes, str | None]) -> None:
        nonlocal sent
        body, content_type = case
        message_id = uuid.uuid4().hex
        handled = intake.service.consumer.handled
        channel.basic_publish(
            events.REQUESTS_EXCHANGE,
            events.SYNC_REQUESTED_ROUTING_KEY,
            body,
            pika.BasicProperties(content_type=content_type, message_id=message_id),
        )
        sent += 1
        bodies.add(body)
        _wait_handled(intake, handled + 1)
        method, properties, dead_body = channel.basic_get(REQUESTS_DEAD_QUEUE, auto_ack=True)
        if method is None:  # not refused: it must have been a valid request, accepted
            return
        assert properties.message_id == message_id
        assert dead_body == body  # kept as it came, for replay
        assert properties.headers["x-syncbucket-reason"] in ALL_REASONS
        assert properties.headers["x-syncbucket-message"]

    one()
    connection.close()
    assert sent >= 200
    deadline = time.monotonic() + 20
    while _answers(intake) - answers_before < len(bodies) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _answers(intake) - answers_before == len(bodies)  # one answer per distinct request
    good = _envelope(intake)
    with intake.client() as client:
        client.send(good)
        assert client.answer(good["id"], timeout=20)["type"] == "syncbucket.sync.accepted"
