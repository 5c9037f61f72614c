"""The signature and the envelope checks, without a database."""

from __future__ import annotations

import json
from typing import Any

import pytest

from syncbucket.intake import envelope, signing
from syncbucket.intake.publisher import build_request, encode
from syncbucket.intake.rejections import RequestRejected
from syncbucket.pipeline.events import CONTENT_TYPE

SECRET = "sbi_test-secret"
DATA = {"clients": "all", "modules": "all"}


def _request(**changes: Any) -> dict[str, Any]:
    event = build_request(firm_id=7, data=DATA, secret=SECRET, event_id="req-1", source="/pm")
    event.update(changes)
    return event


def _reason(body: bytes, content_type: str | None = CONTENT_TYPE, limit: int = 10_000) -> str:
    with pytest.raises(RequestRejected) as caught:
        envelope.check(body, content_type, max_bytes=limit)
    return caught.value.reason


def test_a_signature_binds_the_whole_event() -> None:
    event = _request()
    assert signing.verify(event, [SECRET])
    assert not signing.verify(event, ["sbi_other"])
    for attribute, value in [("firmid", "8"), ("id", "req-2"), ("data", {"clients": "all"})]:
        assert not signing.verify({**event, attribute: value}, [SECRET]), attribute


def test_key_order_and_whitespace_do_not_matter_but_values_do() -> None:
    event = _request()
    reordered = json.loads(json.dumps(dict(reversed(list(event.items()))), indent=2))
    assert signing.verify(reordered, [SECRET])
    assert signing.canonical_bytes(event) == signing.canonical_bytes(reordered)


def test_the_previous_secret_verifies_during_a_rotation() -> None:
    event = _request()
    assert signing.verify(event, ["sbi_new", SECRET])
    assert not signing.verify({**event, "signature": "sha256=00"}, [SECRET])
    assert not signing.verify({k: v for k, v in event.items() if k != "signature"}, [SECRET])


def test_a_good_request_passes_the_envelope_checks() -> None:
    checked = envelope.check(encode(_request()), CONTENT_TYPE, max_bytes=10_000)
    assert (checked.firm_id, checked.identity.event_id, checked.identity.source) == (
        7,
        "req-1",
        "/pm",
    )
    assert checked.data == DATA
    charset = envelope.check(encode(_request()), CONTENT_TYPE + "; charset=utf-8", max_bytes=10_000)
    assert charset.firm_id == 7


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"x" * 20_000, CONTENT_TYPE, "too_large"),
        (b"{}", "application/json", "wrong_content_type"),
        (b"{}", None, "wrong_content_type"),
        (b"\xff\xfe{", CONTENT_TYPE, "malformed_json"),
        (b'{"a": NaN}', CONTENT_TYPE, "malformed_json"),
        (b"{not json", CONTENT_TYPE, "malformed_json"),
        (b"[1, 2]", CONTENT_TYPE, "not_a_cloudevent"),
        (b'{"id": "1"}', CONTENT_TYPE, "not_a_cloudevent"),
    ],
)
def test_bytes_that_are_not_a_request(body: bytes, content_type: str | None, reason: str) -> None:
    assert _reason(body, content_type) == reason


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"specversion": "0.3"}, "unsupported_specversion"),
        ({"type": "syncbucket.run.completed"}, "wrong_type"),
        ({"datacontenttype": "text/plain"}, "wrong_content_type"),
        ({"id": ""}, "not_a_cloudevent"),
        ({"id": "x" * 201}, "not_a_cloudevent"),
        ({"firmid": "acme"}, "unauthorised"),
        ({"firmid": 7}, "unauthorised"),
        ({"signature": None}, "unauthorised"),
    ],
)
def test_events_that_are_not_a_sync_request(changes: dict[str, Any], reason: str) -> None:
    event = {k: v for k, v in _request(**changes).items() if v is not None}
    assert _reason(encode(event)) == reason


def test_a_rejection_keeps_what_identifies_the_request() -> None:
    with pytest.raises(RequestRejected) as caught:
        envelope.check(encode(_request(type="other")), CONTENT_TYPE, max_bytes=10_000)
    identity = caught.value.identity
    assert (identity.event_id, identity.source, identity.firm_id) == ("req-1", "/pm", 7)
    assert SECRET not in caught.value.message
