"""Real processes for the portal-pressure tests: started in their own session, output to a
file (printed when a test fails), always stopped - SIGTERM, then SIGKILL of the group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

PYTHON = sys.executable
TAIL_CHARS = 8000


class Proc:
    def __init__(self, name: str, args: Sequence[str], env: Mapping[str, str]) -> None:
        self.name = name
        handle, path = tempfile.mkstemp(prefix=f"pressure-{name}-", suffix=".log")
        self.log = Path(path)
        self._out = os.fdopen(handle, "w")
        self.popen = subprocess.Popen(
            [PYTHON, *args],
            env=dict(env),
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def children(self) -> list[int]:
        """Direct child pids (a dramatiq pool's worker processes)."""
        path = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def terminate(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, wait up to ``timeout``; the exit code, or None if it had to be killed."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.popen.wait(10)

    def output(self) -> str:
        self._out.flush()
        text = self.log.read_text(errors="replace")
        return text[-TAIL_CHARS:]

    def close(self) -> None:
        """Stop whatever is left of the process group and remove the log."""
        if self.alive():
            self.terminate(timeout=10.0)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)  # stragglers of the group
        self._out.close()
        self.log.unlink(missing_ok=True)


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, step: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
