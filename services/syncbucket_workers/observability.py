"""A worker pool's metrics: the portal edge's hooks, Dramatiq's middleware, series at zero.

``syncbucket worker`` has set the pool's multi-process directory and port in the
environment before Dramatiq started (docs/architecture.md §12), so every value written here by any
worker process of the pool is served by the pool's fork process on one port. Wiring:

- :func:`transport_hooks` -> ``bootstrap(portal, hooks=...)``: each paced request
  (``syncbucket_portal_requests_total``, ``..._request_duration_seconds``), its token wait
  (``syncbucket_ratelimit_wait_seconds``), the slow-downs this process triggered and
  every change of the effective rate this process observed;
- :func:`on_login` -> the session layer's login hook (``syncbucket_logins_total``);
- :func:`instrument_pool`: Dramatiq's own metrics, the pool's series at zero and its
  portal's configured rate (the effective rate starts equal to it).

Items, attempts and retries are counted by the actor (``syncbucket.messaging.worker_actor``).
Hooks run on the requesting thread and never raise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import dramatiq

from syncbucket.config import Settings
from syncbucket.domain.portals import Portal
from syncbucket.metrics import record
from syncbucket.ratelimit import RateChange, SlowDown, TransportHooks, limits_from_settings

log = logging.getLogger("syncbucket.metrics")


def _safe(hook: Callable[..., None]) -> Callable[..., None]:
    """``hook`` that logs instead of raising: metrics never fail a portal request."""

    def guarded(*args: object) -> None:
        try:
            hook(*args)
        except Exception:
            log.exception("metrics hook %s failed", hook.__name__)

    guarded.__name__ = hook.__name__
    return guarded


def on_wait(portal: str, wait_seconds: float) -> None:
    record.ratelimit_wait(portal, max(0.0, wait_seconds))


def on_response(portal: str, status_class: str, duration_seconds: float) -> None:
    record.portal_request(portal, status_class, duration_seconds)


def on_slowdown(change: SlowDown) -> None:
    record.ratelimit_slowdown(change.portal, change.reason)
    record.ratelimit_rates(change.portal, change.rate, change.effective_rate)


def on_rate_change(change: RateChange) -> None:
    record.ratelimit_rates(change.portal, change.rate, change.effective_rate)


def _record_login(portal: str, result: str) -> None:
    record.login(portal, result)


# What ``bootstrap(portal, on_login=...)`` reports every login attempt to.
on_login = _safe(_record_login)


def transport_hooks() -> TransportHooks:
    """What ``bootstrap(portal, hooks=...)`` passes to the pool's paced transports."""
    return TransportHooks(
        on_wait=_safe(on_wait),
        on_response=_safe(on_response),
        on_slowdown=_safe(on_slowdown),
        on_rate_change=_safe(on_rate_change),
    )


def instrument_pool(portal: Portal, settings: Settings, broker: dramatiq.Broker) -> None:
    """Dramatiq's metrics on ``broker``, the pool's series at zero, the configured rates.

    Needs multi-process mode (``syncbucket worker`` sets it up before exec'ing Dramatiq).
    """
    from syncbucket.metrics.dramatiq_mw import install_dramatiq_metrics

    install_dramatiq_metrics(broker)
    record.init_worker_series(portal.value)
    limit = limits_from_settings(settings)[portal.value]
    record.ratelimit_rates(portal.value, limit.rate, limit.rate)
