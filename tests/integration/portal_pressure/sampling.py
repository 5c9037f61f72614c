"""Achieved request rate and 429s, measured from the simulator's own counters."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from tests.integration.portal_pressure.simproc import SimulatorProcess


@dataclass(frozen=True)
class Sample:
    at: float
    requests: int
    limited: int


class Sampler:
    """Samples one portal's counters every ``every`` seconds in a thread."""

    def __init__(self, sim: SimulatorProcess, portal: str = "traces", every: float = 0.25) -> None:
        self.samples: list[Sample] = []
        self._sim, self._portal, self._every = sim, portal, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            stats = self._sim.stats(self._portal)
            self.samples.append(
                Sample(time.monotonic(), stats["requests"]["total"], stats["rate_limited"])
            )

    def stop(self) -> list[Sample]:
        self._stop.set()
        self._thread.join(5)
        return self.samples


@dataclass(frozen=True)
class Steady:
    """The steady-state window: from 2 s after the first request to 90 % of them all."""

    first: Sample
    last: Sample

    @property
    def seconds(self) -> float:
        return self.last.at - self.first.at

    @property
    def rate(self) -> float:
        return (self.last.requests - self.first.requests) / self.seconds

    @property
    def limited(self) -> int:
        return self.last.limited - self.first.limited


def steady_window(samples: list[Sample], final_requests: int) -> Steady:
    started = next(s for s in samples if s.requests > 0)
    first = next(s for s in samples if s.at >= started.at + 2.0)
    last = next(s for s in samples if s.requests >= 0.9 * final_requests)
    return Steady(first, last)
