"""The portal error taxonomy: every failure a portal client can raise, classified.

Errors are translated here, at the portal-client boundary, the way httpx maps httpcore
errors: ``raise PortalTransient(...) from exc``. Callers decide what to do from the class
alone; the ``code`` is stable for reports and metrics, the ``message`` is for a person.
Messages never contain credentials, tokens or response bodies.

    PortalError
    ├── PortalTransient          retried with backoff
    │   └── PortalRateLimited    429, carries retry_after
    ├── PortalMaintenance        deferred until the portal is back, not an attempt
    ├── PortalPermanent          failed at once (4xx, unparseable page, not found)
    ├── InvalidCredentials       failed at once, never retried (accounts lock after 5)
    │   └── AccountLocked
    └── SessionExpired           internal: the client re-logs in once, then Transient
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    TIMEOUT = "portal_timeout"
    CONNECTION = "portal_connection_error"
    SERVER_ERROR = "portal_server_error"
    RATE_LIMITED = "portal_rate_limited"
    TRUNCATED = "portal_truncated_response"
    SESSION_EXPIRED = "session_expired"
    MAINTENANCE = "portal_maintenance"
    CLIENT_ERROR = "portal_client_error"
    UNEXPECTED_RESPONSE = "portal_unexpected_response"
    # A 200 answered with an HTML error page where JSON was expected: retried.
    ERROR_PAGE = "portal_error_page"
    NOT_FOUND = "portal_not_found"
    INVALID_CREDENTIALS = "invalid_credentials"
    LOCKED = "locked"
    MISSING_CREDENTIALS = "missing_credentials"
    # The portal kept rejecting the solved captcha: a solver problem, worth its own code.
    CAPTCHA_REJECTED = "portal_captcha_rejected"
    # The IT portal refused a session even with forceLogin (too many live sessions).
    SESSION_CONFLICT = "portal_session_conflict"


class PortalError(Exception):
    """Base of every portal failure. ``code`` is stable; ``message`` tells a person what to do."""

    default_code: ErrorCode = ErrorCode.UNEXPECTED_RESPONSE

    def __init__(self, message: str, *, portal: str, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.portal = portal
        self.code = code or self.default_code

    def __str__(self) -> str:
        return f"[{self.portal}] {self.code}: {self.message}"


class PortalTransient(PortalError):
    default_code = ErrorCode.SERVER_ERROR


class PortalRateLimited(PortalTransient):
    default_code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, *, portal: str, retry_after: float | None) -> None:
        super().__init__(message, portal=portal)
        self.retry_after = retry_after


class PortalMaintenance(PortalError):
    default_code = ErrorCode.MAINTENANCE

    def __init__(self, message: str, *, portal: str, retry_after: float | None) -> None:
        super().__init__(message, portal=portal)
        self.retry_after = retry_after


class PortalPermanent(PortalError):
    default_code = ErrorCode.UNEXPECTED_RESPONSE


class InvalidCredentials(PortalError):
    default_code = ErrorCode.INVALID_CREDENTIALS


class AccountLocked(InvalidCredentials):
    default_code = ErrorCode.LOCKED


class SessionExpired(PortalError):
    default_code = ErrorCode.SESSION_EXPIRED


def is_retryable(error: PortalError) -> bool:
    return isinstance(error, PortalTransient | SessionExpired)
