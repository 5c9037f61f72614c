"""Bytes off the requests queue -> a checked ``syncbucket.sync.requested`` CloudEvent.

Checks run cheapest first and stop at the first failure, each with its own reason
(:mod:`.rejections`): size, content type, UTF-8 JSON, the CloudEvents envelope (via the
``cloudevents`` SDK), ``specversion`` 1.0, the event ``type``, ``datacontenttype``, and
the presence of the ``firmid`` and ``signature`` attributes. Whether the signature is
right and ``data`` is a valid request is the handler's business (it needs the database).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from cloudevents.exceptions import GenericException
from cloudevents.http import from_dict

from syncbucket.intake.rejections import Reason, RequestIdentity, RequestRejected
from syncbucket.intake.signing import FIRM_ATTRIBUTE, SIGNATURE_ATTRIBUTE
from syncbucket.pipeline.events import CONTENT_TYPE, SPEC_VERSION, SYNC_REQUESTED_TYPE

MAX_ID_LENGTH = 200
MAX_SOURCE_LENGTH = 500
_FIRM_ID = re.compile(r"[1-9][0-9]{0,9}")
_DATA_CONTENT_TYPES = ("application/json",)


@dataclass(frozen=True)
class CheckedRequest:
    """A well-formed, not yet authenticated, sync request."""

    event: dict[str, Any]
    identity: RequestIdentity
    firm_id: int
    data: Any


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _reject(reason: Reason, message: str, identity: RequestIdentity) -> RequestRejected:
    return RequestRejected(reason.value, message, identity=identity)


def _forbid_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _decode(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_forbid_constant)
    except UnicodeDecodeError as exc:
        raise _reject(
            Reason.MALFORMED_JSON, f"the body is not UTF-8 (byte {exc.start})", RequestIdentity()
        ) from None
    except ValueError as exc:  # JSONDecodeError included
        raise _reject(
            Reason.MALFORMED_JSON, f"the body is not JSON ({exc})", RequestIdentity()
        ) from None
    except RecursionError:
        raise _reject(
            Reason.MALFORMED_JSON, "the body nests too deeply", RequestIdentity()
        ) from None


def _text_attribute(event: dict[str, Any], name: str, limit: int) -> str | None:
    value = event.get(name)
    if isinstance(value, str) and 0 < len(value) <= limit:
        return value
    return None


def identify(event: dict[str, Any]) -> RequestIdentity:
    """Whatever of id, source and firm can be read, for the answer's correlation."""
    firm = event.get(FIRM_ATTRIBUTE)
    firm_id = int(firm) if isinstance(firm, str) and _FIRM_ID.fullmatch(firm) else None
    return RequestIdentity(
        event_id=_text_attribute(event, "id", MAX_ID_LENGTH),
        source=_text_attribute(event, "source", MAX_SOURCE_LENGTH),
        firm_id=firm_id,
    )


def check(body: bytes, content_type: str | None, *, max_bytes: int) -> CheckedRequest:
    """The request in ``body``, or :class:`RequestRejected` saying what is wrong."""
    if len(body) > max_bytes:
        raise _reject(
            Reason.TOO_LARGE,
            f"the request is {len(body)} bytes; at most {max_bytes} are accepted",
            RequestIdentity(),
        )
    if _media_type(content_type) != CONTENT_TYPE:
        shown = (content_type or "none")[:100]
        raise _reject(
            Reason.WRONG_CONTENT_TYPE,
            f"content type {shown!r}: send structured-mode CloudEvents as {CONTENT_TYPE}",
            RequestIdentity(),
        )
    decoded = _decode(body)
    if not isinstance(decoded, dict):
        raise _reject(
            Reason.NOT_A_CLOUDEVENT, "the body is JSON but not an object", RequestIdentity()
        )
    identity = identify(decoded)
    _check_envelope(decoded, identity)
    firm = decoded.get(FIRM_ATTRIBUTE)
    if identity.firm_id is None:
        shown = "missing" if firm is None else "not a firm id"
        raise _reject(
            Reason.UNAUTHORISED,
            f"the {FIRM_ATTRIBUTE} attribute is {shown}: name the firm the request is for",
            identity,
        )
    if not isinstance(decoded.get(SIGNATURE_ATTRIBUTE), str):
        raise _reject(
            Reason.UNAUTHORISED,
            f"the request is not signed: set the {SIGNATURE_ATTRIBUTE} attribute "
            "(HMAC-SHA256 with the firm's integration secret, docs/events.md)",
            identity,
        )
    return CheckedRequest(decoded, identity, identity.firm_id, decoded.get("data"))


def _check_envelope(event: dict[str, Any], identity: RequestIdentity) -> None:
    try:
        from_dict(dict(event))
    except (GenericException, TypeError, ValueError, AttributeError) as exc:
        raise _reject(Reason.NOT_A_CLOUDEVENT, f"not a CloudEvent: {exc}", identity) from None
    if event.get("specversion") != SPEC_VERSION:
        raise _reject(
            Reason.UNSUPPORTED_SPECVERSION,
            f"specversion {str(event.get('specversion'))[:20]!r}: only {SPEC_VERSION} is spoken",
            identity,
        )
    if identity.event_id is None or identity.source is None:
        raise _reject(
            Reason.NOT_A_CLOUDEVENT,
            f"id (1..{MAX_ID_LENGTH} characters) and source (1..{MAX_SOURCE_LENGTH}) "
            "must be non-empty strings",
            identity,
        )
    if event.get("type") != SYNC_REQUESTED_TYPE:
        raise _reject(
            Reason.WRONG_TYPE,
            f"type {str(event.get('type'))[:100]!r}: this queue takes {SYNC_REQUESTED_TYPE}",
            identity,
        )
    if "data_base64" in event or event.get("datacontenttype", "application/json") not in (
        _DATA_CONTENT_TYPES
    ):
        raise _reject(
            Reason.WRONG_CONTENT_TYPE,
            "data must be JSON (datacontenttype application/json), not binary",
            identity,
        )
    if "data" not in event:
        raise _reject(Reason.INVALID_REQUEST, "the request has no data", identity)
