"""The bounded label values of the catalogue (docs/metrics.md), and how to map raw values to them.

No prometheus_client import here: entry modules may import this before
:func:`syncbucket.metrics.prepare_multiprocess_dir` has run.
"""

from __future__ import annotations

from collections.abc import Iterable

from syncbucket.domain.portals import ModuleKey, Portal
from syncbucket.domain.runs import RunStatus
from syncbucket.portals.errors import ErrorCode

#: Anything outside a bounded set is recorded as this, so a stray value can never
#: explode a metric's cardinality (an exception text, a TAN, a run id...).
OTHER = "other"

PORTALS: frozenset[str] = frozenset(p.value for p in Portal)
MODULES: frozenset[str] = frozenset(m.value for m in ModuleKey)
ITEM_OUTCOMES: frozenset[str] = frozenset({"succeeded", "failed", "skipped"})
STATUS_CLASSES: frozenset[str] = frozenset(
    {"2xx", "3xx", "4xx", "429", "5xx", "timeout", "connection_error"}
)
SLOWDOWN_REASONS: frozenset[str] = frozenset({"429", "5xx_burst"})
ERROR_REASONS: frozenset[str] = frozenset(
    {c.value for c in ErrorCode} | {"timed_out", "internal_error", "missing_credentials"}
)
#: ``error_code`` of ``syncbucket_items_processed_total`` for an item that did not fail
#: (``succeeded`` / ``skipped``). A real value rather than ``""``: Prometheus treats an
#: empty label as an absent one, so ``error_code="none"`` is easier to select (docs/metrics.md).
NO_ERROR = "none"
#: Every final failure code an item can carry: the portal taxonomy, the worker's own
#: ``timed_out`` / ``internal_error`` (pipeline/retry_policy.py) and
#: ``credentials_unreadable`` (pipeline/work_items.py). Literals, not imports: the pipeline
#: imports the metrics, not the other way round.
ITEM_ERROR_CODES: frozenset[str] = ERROR_REASONS | {"credentials_unreadable"}
#: The ``error_code`` groups of the dashboard's "Failures by cause" panel (docs/metrics.md):
#: what the firm fixes in its client master, and what the portal is doing to us.
FIRM_ERROR_CODES: frozenset[str] = frozenset(
    {"invalid_credentials", "locked", "missing_credentials", "credentials_unreadable"}
)
PORTAL_ERROR_CODES: frozenset[str] = frozenset(
    {
        "portal_server_error",
        "portal_timeout",
        "portal_connection_error",
        "portal_unexpected_response",
        "portal_truncated_response",
        "portal_error_page",
        "portal_maintenance",
        "portal_rate_limited",
        "timed_out",
    }
)
LOGIN_RESULTS: frozenset[str] = frozenset(
    {"success", "rejected", "locked", "error", "skipped_breaker"}
)
REAPER_ACTIONS: frozenset[str] = frozenset({"released", "timed_out", "cancelled"})
FINAL_RUN_STATUSES: frozenset[str] = frozenset(
    {RunStatus.COMPLETED.value, RunStatus.COMPLETED_WITH_ERRORS.value, RunStatus.CANCELLED.value}
)
APPLY_RESULTS: frozenset[str] = frozenset({"applied", "duplicate"})


def portal_queues() -> tuple[str, ...]:
    """Every queue whose depth ``syncbucket_queue_messages`` reports.

    Dramatiq's RabbitMQ broker pairs each queue ``q`` with a delay queue ``q.DQ`` and a
    dead-letter queue ``q.XQ``.
    """
    base = [f"portal.{portal.value}" for portal in Portal] + ["results"]
    return tuple(name + suffix for name in base for suffix in ("", ".DQ", ".XQ"))


QUEUES: frozenset[str] = frozenset(portal_queues())


def bounded(value: object, allowed: Iterable[str]) -> str:
    """``value`` as a label if it is one of ``allowed``, else :data:`OTHER`."""
    text = str(getattr(value, "value", value))
    return text if text in allowed else OTHER


def item_error_code(outcome: str, error_code: str | None) -> str:
    """The ``error_code`` label of a finished item: :data:`NO_ERROR` unless it failed,
    then its code if it is in :data:`ITEM_ERROR_CODES`, else :data:`OTHER`."""
    if outcome != "failed":
        return NO_ERROR
    return bounded(error_code, ITEM_ERROR_CODES) if error_code else OTHER


def status_class(status_code: int) -> str:
    """The ``status_class`` label of an HTTP status: ``2xx``..``5xx``, with ``429`` apart."""
    if status_code == 429:
        return "429"
    if 200 <= status_code < 600:
        return f"{status_code // 100}xx"
    return OTHER
