"""Leader-only duties: run the dispatcher, reaper (and scheduler) only under the lease.

Every coordinator replica serves the API and refreshes its gauges; the duties that must
happen once run in the one replica holding the leader lease (docs/architecture.md §18).
:class:`Leadership` owns those duty loops and a ``lease`` loop of its own, which renews
the lease every ttl/3 and, on each renewal, reconciles the duties with the outcome:

- gained: the duties start (their first tick runs at once);
- lost (another holder, a failed renewal, or the local deadline passed): the duties
  stop, each joined for at most ``stop_timeout`` seconds.

Stopping must happen BEFORE another replica can start, and a renewal can hang (a
database that stopped answering), so the lease loop is not the only safeguard: every
duty tick is gated on :meth:`LeaderLease.holds` (the local, monotonic deadline, which
ends before the database lets anyone else take the lease), and the dispatcher's
transaction is fenced by :meth:`LeaderLease.guard`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from syncbucket.coordination.lease import LeaderLease
from syncbucket.metrics import record
from syncbucket_coordinator.loops import PeriodicLoop

logger = logging.getLogger(__name__)

#: Bound on joining a duty loop when leadership ends: a tick still running past it is
#: gated and fenced anyway, and the lease loop must get back to renewing.
DEFAULT_STOP_TIMEOUT_SECONDS = 5.0


class Leadership:
    """Hold ``lease`` and run ``duties`` exactly while it is held."""

    def __init__(
        self,
        lease: LeaderLease,
        duties: Sequence[PeriodicLoop],
        *,
        stop_timeout: float = DEFAULT_STOP_TIMEOUT_SECONDS,
    ) -> None:
        self.lease = lease
        self.duties = tuple(duties)
        self.stop_timeout = stop_timeout
        for duty in self.duties:
            duty.gate = lease.holds  # no duty tick starts once the local deadline passed
        # Never backs off: a lease renewed late is a lease lost, and a failure is
        # already answered by stopping the duties (and shows in /healthz).
        self.loop = PeriodicLoop("lease", lease.renew_interval, self.tick, backoff=False)
        self._leading = False
        self._started = False
        self._lock = threading.Lock()  # gain/lose from the lease loop and from stop()

    @property
    def loops(self) -> tuple[PeriodicLoop, ...]:
        """Every loop this object starts and stops: the duties, then the lease loop."""
        return (*self.duties, self.loop)

    @property
    def leading(self) -> bool:
        """This replica runs the duties now (and its lease has not run out locally)."""
        return self._leading and self.lease.holds()

    def start(self) -> None:
        """Try to lead at once (a lone coordinator dispatches from its first second), then
        keep renewing or contending on the lease loop."""
        if self._started:
            return
        self._started = True
        self.loop.run_once()  # a database error is logged, counted, and retried by the loop
        if not self._leading:
            logger.info(
                "leader lease %r is not ours (%s): serving the API, standing by",
                self.lease.name,
                self.lease.holder,
            )
        self.loop.start(wait_first=True)

    def stop(self) -> None:
        """Stop renewing, stop the duties, then release the lease for the next replica.

        In that order: the lease is given up only after the duties have stopped, so the
        next leader's first tick never overlaps this one's last.
        """
        if not self._started:
            return
        self._started = False
        self.loop.stop()
        self._lose("shutting down")
        try:
            if self.lease.release():
                logger.info("leader lease %r released", self.lease.name)
        except Exception:
            logger.exception("could not release leader lease %r", self.lease.name)

    def tick(self) -> None:
        """One renewal (or attempt to acquire), and the duties reconciled with it."""
        try:
            token = self.lease.try_acquire_or_renew()
        except Exception:
            self._lose("the lease could not be renewed")
            raise
        if token is not None:
            self._gain(token)
        else:
            self._lose("the lease is held by another coordinator or ran out")
        record.leader_state(self.leading)

    def _gain(self, token: int) -> None:
        with self._lock:
            if self._leading:
                return
            if not self.lease.holds():
                return
            logger.info(
                "leader lease %r acquired by %s (fencing token %d): starting %s",
                self.lease.name,
                self.lease.holder,
                token,
                ", ".join(duty.name for duty in self.duties) or "no duties",
            )
            for duty in self.duties:
                duty.start()
            self._leading = True  # after the start: /healthz never sees a leader idle
            record.leader_change("acquired")
            record.leader_state(True)

    def _lose(self, why: str) -> None:
        with self._lock:
            if not self._leading:
                return
            self._leading = False  # first: /healthz does not count stopping duties as dead
            logger.info(
                "leader lease %r lost by %s (%s): stopping %s",
                self.lease.name,
                self.lease.holder,
                why,
                ", ".join(duty.name for duty in self.duties) or "no duties",
            )
            record.leader_state(False)
            for duty in self.duties:
                duty.stop(self.stop_timeout)
            record.leader_change("lost")
