"""The stack's real processes for end-to-end tests, run by the ``make stack`` supervisor.

Output of every process is captured (prefixed by its name) and printed at teardown, which
pytest shows only for a failed test. Every process is stopped at teardown, whatever happened.
"""

from __future__ import annotations

import io
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

import httpx

from syncbucket_stack.output import PrefixedWriter
from syncbucket_stack.plan import syncbucket_command
from syncbucket_stack.supervisor import SELF, ProcessSpec, Supervisor

T = TypeVar("T")
TAIL_CHARS = 20_000


class LockedBuffer(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            return super().write(text)

    def text(self) -> str:
        with self._lock:
            return self.getvalue()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stack_env(base: Mapping[str, str], **settings: object) -> dict[str, str]:
    """``base`` without any SYNCBUCKET_* of the caller's shell, plus ``settings``."""
    env = {k: v for k, v in base.items() if not k.startswith("SYNCBUCKET_")}
    env["SYNCBUCKET_SECRET_KEY"] = base["SYNCBUCKET_SECRET_KEY"]
    env.update({f"SYNCBUCKET_{k.upper()}": str(v) for k, v in settings.items()})
    return env


def specs(env: Mapping[str, str], threads: int) -> list[ProcessSpec]:
    command = syncbucket_command()
    pool = ("--processes", "1", "--threads", str(threads))
    args = {
        "portal-sim": ("serve", "portal-sim"),
        "coordinator": ("serve", "coordinator"),
        "aggregator": ("serve", "aggregator"),
        "requests": ("serve", "requests"),
        "worker-traces": ("worker", "--portal", "traces", *pool),
        "worker-itportal": ("worker", "--portal", "itportal", *pool),
    }
    return [ProcessSpec(name, (*command, *a), dict(env)) for name, a in args.items()]


class Stack:
    """The supervisor's children, and waits that fail fast when one of them died."""

    def __init__(
        self, env: Mapping[str, str], threads: int = 8, only: frozenset[str] | None = None
    ) -> None:
        self.buffer = LockedBuffer()
        process_specs = [s for s in specs(env, threads) if only is None or s.name in only]
        writer = PrefixedWriter(self.buffer, [SELF, *(s.name for s in process_specs)], False)
        self.supervisor = Supervisor(process_specs, writer, grace_seconds=5.0)
        self.pids: dict[str, int] = {}

    def start(self) -> None:
        self.supervisor.start()
        self.pids = {name: p.pid for name, p in self.supervisor.running.items()}

    def check_alive(self) -> None:
        for name, process in self.supervisor.running.items():
            if process.poll() is not None:
                raise AssertionError(f"{name} exited with status {process.returncode}")

    def wait_for(self, what: str, probe: Callable[[], T | None], timeout: float) -> T:
        """Call ``probe`` until it returns something other than None."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            found = probe()
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
            time.sleep(0.1)

    def stop(self) -> None:
        self.supervisor.stop()

    def output_tail(self) -> str:
        return self.buffer.text()[-TAIL_CHARS:]


def answers(url: str) -> bool | None:
    try:
        return True if httpx.get(url, timeout=1.0).status_code < 500 else None
    except httpx.HTTPError:
        return None


def vm_hwm_kib(pid: int) -> int:
    """Peak resident set size (VmHWM) of a live process, in KiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise LookupError(f"no VmHWM for pid {pid}")


def environ() -> dict[str, str]:
    return dict(os.environ)
