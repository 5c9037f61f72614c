"""Raw Dramatiq throughput on RabbitMQ: a no-op actor, N messages, P processes x T threads.

The processes build their own broker (same middleware and publisher confirms as the
pools) and count what they processed in a shared counter; the clock runs from the first
message processed (worker boot excluded) until the counter reaches N.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

import dramatiq

from syncbucket.config import load_settings
from syncbucket.messaging.broker import make_broker
from tests.e2e.rabbit import purge_queue

QUEUE = "bench.noop"


def _declare(broker: dramatiq.Broker, counter: Any) -> dramatiq.Actor[..., None]:
    def bench_noop(n: int) -> None:
        with counter.get_lock():
            counter.value += 1

    actor: dramatiq.Actor[..., None] = dramatiq.actor(
        bench_noop, actor_name="bench_noop", queue_name=QUEUE, broker=broker
    )
    return actor


def _consume(url: str, threads: int, counter: Any, stop: Any) -> None:
    broker = make_broker(load_settings(broker_url=url))
    _declare(broker, counter)
    worker = dramatiq.Worker(broker, worker_threads=threads, queues={QUEUE})
    worker.start()
    stop.wait()
    worker.stop()
    broker.close()


def noop_throughput(url: str, messages: int, processes: int, threads: int) -> float:
    """Messages per second consumed by ``processes`` x ``threads`` workers."""
    purge_queue(url, QUEUE)
    context = multiprocessing.get_context("spawn")
    counter, stop = context.Value("i", 0), context.Event()
    broker = make_broker(load_settings(broker_url=url))
    actor = _declare(broker, counter)
    for n in range(messages):
        actor.send(n)
    broker.close()
    workers = [
        context.Process(target=_consume, args=(url, threads, counter, stop))
        for _ in range(processes)
    ]
    for process in workers:
        process.start()
    try:
        while counter.value == 0:  # the clock starts at the first message, after the boot
            time.sleep(0.001)
        started, first = time.monotonic(), counter.value
        while counter.value < messages:
            time.sleep(0.01)
        return (messages - first) / (time.monotonic() - started)
    finally:
        stop.set()
        for process in workers:
            process.join(30)
            if process.is_alive():
                process.kill()
        purge_queue(url, QUEUE)
