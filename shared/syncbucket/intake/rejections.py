"""Why a sync request was refused: a stable code for machines, a sentence for people.

The codes are the ``reason`` of a ``syncbucket.sync.rejected`` answer, the
``x-syncbucket-reason`` header of the dead-lettered copy and the ``reason`` label of
``syncbucket_requests_rejected_total``. Run refusals (``unknown_clients``, ``no_clients``,
...) keep the code :class:`syncbucket.pipeline.errors.RunRefused` gave them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Reason(StrEnum):
    TOO_LARGE = "too_large"
    WRONG_CONTENT_TYPE = "wrong_content_type"
    MALFORMED_JSON = "malformed_json"
    NOT_A_CLOUDEVENT = "not_a_cloudevent"
    UNSUPPORTED_SPECVERSION = "unsupported_specversion"
    WRONG_TYPE = "wrong_type"
    UNAUTHORISED = "unauthorised"
    INVALID_REQUEST = "invalid_request"
    INTERNAL_ERROR = "internal_error"


#: Codes a run can be refused with (RunRefused), also answered as rejections.
RUN_REFUSAL_CODES = (
    "no_modules",
    "unknown_module",
    "no_clients",
    "unknown_clients",
    "inactive_clients",
    "ambiguous_clients",
)
ALL_REASONS = (*(reason.value for reason in Reason), *RUN_REFUSAL_CODES)


@dataclass(frozen=True)
class RequestIdentity:
    """What is known of a request: as much as could be read before it was refused."""

    event_id: str | None = None
    source: str | None = None
    firm_id: int | None = None


UNKNOWN = RequestIdentity()


class RequestRejected(Exception):
    """A request SyncBucket will not act on; nothing was created for it.

    ``message`` is safe to show anyone who can read the events exchange: it never holds
    a secret, a signature or a client's name.
    """

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        details: dict[str, list[str]] | None = None,
        identity: RequestIdentity = UNKNOWN,
    ) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
        self.details = details or {}
        self.identity = identity
