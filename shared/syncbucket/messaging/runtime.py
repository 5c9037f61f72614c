"""Running a Dramatiq worker inside a process we own (aggregator, embedded footprint, tests).

The ``dramatiq`` CLI emits ``process_boot`` before it starts a worker; middleware relies on
it (``TimeLimit`` starts its watchdog thread there). A process that builds its own
``Worker`` must do the same, once per broker.
"""

from __future__ import annotations

import threading
import weakref

import dramatiq

DEFAULT_IDLE_TIMEOUT_MS = 1000

_booted: weakref.WeakSet[dramatiq.Broker] = weakref.WeakSet()
_boot_lock = threading.Lock()


def boot_process(broker: dramatiq.Broker) -> None:
    """Emit ``process_boot`` for ``broker`` unless this process already did."""
    with _boot_lock:
        if broker in _booted:
            return
        broker.emit_after("process_boot")
        _booted.add(broker)


def start_worker(
    broker: dramatiq.Broker,
    *,
    queues: set[str],
    threads: int,
    idle_timeout_ms: int = DEFAULT_IDLE_TIMEOUT_MS,
) -> dramatiq.Worker:
    """A started worker consuming only ``queues`` with ``threads`` worker threads.

    ``idle_timeout_ms`` is how long a consumer waits for a message before it looks at its
    delayed messages again (so it bounds how late a due retry starts).
    """
    boot_process(broker)
    worker = dramatiq.Worker(
        broker, queues=queues, worker_threads=threads, worker_timeout=idle_timeout_ms
    )
    worker.start()
    return worker
