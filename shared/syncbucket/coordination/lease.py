"""The leader lease: one ``leases`` row, held by one process at a time, with a fencing token.

Coordinators run as several replicas; the duties that must happen once (dispatcher,
reaper, scheduler) run only in the replica holding this lease (docs/architecture.md §18).

- :meth:`LeaderLease.try_acquire_or_renew` is one transaction: INSERT the row if it is
  missing (``ON CONFLICT DO NOTHING``), then ONE conditional UPDATE that takes the lease
  when it is free or expired, renews it when this holder has it, and matches nothing
  while another holder's lease runs. Two contenders serialise on the row lock and the
  second re-checks the condition against the first one's new row, so exactly one wins.
  A new holder increments ``fencing_token``; a renewal keeps it.
- Expiry is judged by the DATABASE clock on PostgreSQL (``now()``): the replicas'
  clocks never meet, so skew between hosts cannot make two leaders. SQLite (the
  embedded demo, one process) has no shared clock to worry about and uses Python's.
- Self-fencing: the holder believes it leads only until the monotonic time read at the
  START of its last successful renewal + ttl - a safety margin (:meth:`holds`). The
  database's expiry is ``now() + ttl`` with ``now()`` the start of that renewal's
  transaction, which began after the local start was read; so the old holder stops
  at least the margin before the database lets anyone else in. A failed renewal ends
  it at once (:meth:`holds` turns false before the exception leaves).
- :meth:`guard`, called inside a duty's transaction just before it commits, re-reads
  the row ``FOR SHARE``: a holder paused past its lease (GC, a stopped VM) and resumed
  finds it gone and rolls back, and while the guard's lock is held no contender's
  UPDATE can take the lease, so the duty's commit happens inside this holder's tenure.
- :meth:`release` on a clean shutdown moves ``expires_at`` into the past, so another
  replica takes over at its next renewal instead of after a whole ttl.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.db.base import UtcDateTime, utcnow
from syncbucket.db.leases import Lease
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.db.upsert import insert_for

__all__ = [
    "DEFAULT_LEASE_NAME",
    "LeaderLease",
    "LeaseLost",
    "LeaseView",
    "default_holder",
    "read_lease",
]

DEFAULT_LEASE_NAME = "coordinator"
HOLDER_MAX_LENGTH = 200  # leases.holder is VARCHAR(200)
#: Renew this many times per ttl: two renewals may fail (or be late) before it runs out.
RENEWALS_PER_TTL = 3
#: The holder stops this fraction of the ttl before the database would let another in.
SAFETY_MARGIN_FRACTION = 0.2
#: ``release()`` leaves ``expires_at`` this far in the past, so ``expires_at < now()``
#: holds for any contender's next transaction.
RELEASED_AGO = timedelta(seconds=1)

Clock = Callable[[], datetime]
Monotonic = Callable[[], float]


class LeaseLost(RuntimeError):
    """This holder no longer holds the lease: the duty's transaction must not commit."""


@dataclass(frozen=True)
class LeaseView:
    """The lease row as any replica reads it (``/healthz``)."""

    name: str
    holder: str | None
    fencing_token: int
    #: Until ``expires_at``, by the database's clock on PostgreSQL; negative once expired.
    expires_in_seconds: float | None

    @property
    def active_holder(self) -> str | None:
        """Who leads now: the holder while its lease runs, else nobody."""
        if self.expires_in_seconds is None or self.expires_in_seconds <= 0:
            return None
        return self.holder


def default_holder() -> str:
    """``host:pid:random``: unique per process and readable in ``/healthz`` and the logs.

    The random part keeps a restarted process that reuses a pid (pid 1 in a container)
    from renewing its dead predecessor's lease as if it were its own.
    """
    suffix = f":{os.getpid()}:{secrets.token_hex(4)}"
    return socket.gethostname()[: HOLDER_MAX_LENGTH - len(suffix)] + suffix


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def read_lease(
    session: Session, name: str = DEFAULT_LEASE_NAME, *, clock: Clock = utcnow
) -> LeaseView | None:
    """The row ``name`` (None before anyone tried to lead), its expiry in database time."""
    if _is_postgres(session):
        row = session.execute(
            sa.select(
                Lease.holder,
                Lease.fencing_token,
                sa.extract("epoch", Lease.expires_at - sa.func.now()),
            ).where(Lease.name == name)
        ).one_or_none()
        if row is None:
            return None
        seconds = None if row[2] is None else float(row[2])
        return LeaseView(name, row[0], int(row[1]), seconds)
    found = session.execute(
        sa.select(Lease.holder, Lease.fencing_token, Lease.expires_at).where(Lease.name == name)
    ).one_or_none()
    if found is None:
        return None
    expires_at = found[2]
    left = None if expires_at is None else (expires_at - clock()).total_seconds()
    return LeaseView(name, found[0], int(found[1]), left)


class LeaderLease:
    """One holder's side of the lease ``name``; see the module docstring for the rules.

    ``sessions`` should be bound to a pool the holder's renewals do not share with busy
    work (the coordinator gives it an engine of its own): a renewal that waits for a
    pooled connection behind web requests would lose the lease for no reason.
    ``clock`` is the wall clock used on SQLite only; ``monotonic`` measures the holder's
    own deadline. Both are injectable for tests.
    """

    def __init__(
        self,
        sessions: SessionFactory,
        *,
        name: str = DEFAULT_LEASE_NAME,
        holder: str | None = None,
        ttl_seconds: float,
        safety_margin_seconds: float | None = None,
        clock: Clock = utcnow,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError(f"lease {name!r}: ttl must be positive, got {ttl_seconds}")
        margin = (
            ttl_seconds * SAFETY_MARGIN_FRACTION
            if safety_margin_seconds is None
            else safety_margin_seconds
        )
        if not 0 <= margin < ttl_seconds - ttl_seconds / RENEWALS_PER_TTL:
            raise ValueError(
                f"lease {name!r}: a safety margin of {margin}s leaves no room to renew "
                f"a {ttl_seconds}s lease every {ttl_seconds / RENEWALS_PER_TTL:.3g}s"
            )
        self.name = name
        self.holder = (holder or default_holder())[:HOLDER_MAX_LENGTH]
        self.ttl_seconds = ttl_seconds
        self.safety_margin_seconds = margin
        self._sessions = sessions
        self._clock = clock
        self._monotonic = monotonic
        # (fencing token, local monotonic deadline), swapped as one reference: read
        # without a lock by the duties' threads while the lease loop renews.
        self._held: tuple[int, float] | None = None

    @property
    def renew_interval(self) -> float:
        """How often the holder (and every contender) should call ``try_acquire_or_renew``."""
        return self.ttl_seconds / RENEWALS_PER_TTL

    def holds(self) -> bool:
        """True until the local deadline of the last successful renewal (self-fencing)."""
        held = self._held
        return held is not None and self._monotonic() < held[1]

    @property
    def token(self) -> int | None:
        """The fencing token while this holder holds the lease, else None."""
        held = self._held
        return held[0] if held is not None and self._monotonic() < held[1] else None

    def seconds_left(self) -> float:
        """Local seconds until this holder must stop (0 when it does not hold the lease)."""
        held = self._held
        return 0.0 if held is None else max(0.0, held[1] - self._monotonic())

    def try_acquire_or_renew(self) -> int | None:
        """Take the lease if free or expired, renew it if ours; the token while held.

        Raises what the database raised, after dropping the lease locally: a holder that
        cannot renew stops leading at once rather than at its deadline.
        """
        started = self._monotonic()  # before the transaction starts: see the module doc
        try:
            with unit_of_work(self._sessions) as session:
                token = self._acquire(session)
        except BaseException:
            self._held = None
            raise
        if token is None:
            self._held = None
            return None
        self._held = (token, started + self.ttl_seconds - self.safety_margin_seconds)
        return self.token  # None if the renewal itself took longer than the lease

    def _acquire(self, session: Session) -> int | None:
        postgres = _is_postgres(session)
        if postgres:
            # Never wait longer than the renewal could still be useful: by then the local
            # deadline has passed anyway, and the next renewal is due.
            budget_ms = int((self.ttl_seconds - self.safety_margin_seconds) * 1000)
            session.execute(
                sa.select(sa.func.set_config("statement_timeout", str(budget_ms), True))
            )
            now: sa.ColumnElement[datetime] = sa.func.now()
            expires: sa.ColumnElement[datetime] = now + sa.literal(
                timedelta(seconds=self.ttl_seconds), sa.Interval()
            )
        else:
            wall = self._clock()
            now = sa.literal(wall, UtcDateTime())
            expires = sa.literal(wall + timedelta(seconds=self.ttl_seconds), UtcDateTime())
        session.execute(
            insert_for(session, Lease)
            .values(name=self.name, fencing_token=0)
            .on_conflict_do_nothing(index_elements=[Lease.name])
        )
        mine = Lease.holder == self.holder
        token = session.scalar(
            sa.update(Lease)
            .where(
                Lease.name == self.name,
                sa.or_(mine, Lease.holder.is_(None), Lease.expires_at < now),
            )
            .values(
                holder=self.holder,
                fencing_token=sa.case((mine, Lease.fencing_token), else_=Lease.fencing_token + 1),
                acquired_at=sa.case((mine, Lease.acquired_at), else_=now),
                renewed_at=now,
                expires_at=expires,
            )
            .returning(Lease.fencing_token),
            execution_options={"synchronize_session": False},
        )
        return None if token is None else int(token)

    def guard(self, session: Session) -> None:
        """Raise :class:`LeaseLost` unless this holder still holds the lease.

        Call it in a duty's transaction right before the commit. On PostgreSQL the row
        is read ``FOR SHARE`` and checked against ``statement_timestamp()`` (not
        ``now()``, the start of a transaction that may be seconds old): until this
        transaction ends, no contender can take the lease, so what it commits is
        committed within this holder's tenure. SQLite serialises writers already.
        """
        token = self.token
        if token is None:
            raise LeaseLost(f"lease {self.name!r} is not held by {self.holder}")
        postgres = _is_postgres(session)
        now: sa.ColumnElement[datetime] = (
            sa.func.statement_timestamp() if postgres else sa.literal(self._clock(), UtcDateTime())
        )
        still = session.scalar(
            sa.select(Lease.fencing_token)
            .where(
                Lease.name == self.name,
                Lease.holder == self.holder,
                Lease.fencing_token == token,
                Lease.expires_at > now,
            )
            .with_for_update(read=True)
        )
        if still is None:
            self._held = None
            raise LeaseLost(f"lease {self.name!r} (token {token}) was lost by {self.holder}")

    def release(self) -> bool:
        """Give the lease up (clean shutdown); True if this holder still had it.

        The holder and token stay in the row for the record; the next contender's
        UPDATE sees ``expires_at`` in the past and takes it with token + 1.
        """
        self._held = None
        with unit_of_work(self._sessions) as session:
            past: sa.ColumnElement[datetime] = (
                sa.func.now() - sa.literal(RELEASED_AGO, sa.Interval())
                if _is_postgres(session)
                else sa.literal(self._clock() - RELEASED_AGO, UtcDateTime())
            )
            result = session.execute(
                sa.update(Lease)
                .where(Lease.name == self.name, Lease.holder == self.holder)
                .values(expires_at=past),
                execution_options={"synchronize_session": False},
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def view(self, session: Session) -> LeaseView | None:
        """The row as it stands (any session: the caller's pool, not the renewals')."""
        return read_lease(session, self.name, clock=self._clock)
