"""A small process supervisor: start children, prefix their output, stop them all together.

    supervisor = Supervisor(specs, writer)
    status = supervisor.run(stop)       # stop: a threading.Event set by a signal handler

* Each child runs in its own session, so Ctrl-C reaches only the supervisor, which then
  stops every child in order: SIGTERM to each, wait up to ``grace_seconds``, SIGKILL to
  each child's whole process group (a worker pool's forked processes included).
* A child that exits while the others run is a failure: the rest are stopped and
  :meth:`Supervisor.run` returns non-zero after saying which child died.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import FrameType

from syncbucket_stack.output import PrefixedWriter

SELF = "stack"
FAILED = 1


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str] | None = None  # None = the supervisor's environment


def spawn(spec: ProcessSpec, writer: PrefixedWriter) -> subprocess.Popen[str]:
    """Start ``spec`` in a new session with its output piped to ``writer``, line by line."""
    env = dict(os.environ if spec.env is None else spec.env)
    env.setdefault("PYTHONUNBUFFERED", "1")
    process = subprocess.Popen(  # noqa: S603 - argv built by the caller, no shell
        list(spec.argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        text=True,
        errors="replace",
        bufsize=1,
        start_new_session=True,
    )
    thread = threading.Thread(
        target=_pump, args=(process, spec.name, writer), name=f"out:{spec.name}", daemon=True
    )
    thread.start()
    setattr(process, "_reader", thread)  # noqa: B010 - joined in drain()
    return process


def _pump(process: subprocess.Popen[str], name: str, writer: PrefixedWriter) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        writer.line(name, line)


def drain(process: subprocess.Popen[str], timeout: float = 2.0) -> None:
    """Wait (briefly) until the child's last output lines have been written."""
    reader = getattr(process, "_reader", None)
    if isinstance(reader, threading.Thread):
        reader.join(timeout)


class Supervisor:
    def __init__(
        self,
        specs: Sequence[ProcessSpec],
        writer: PrefixedWriter,
        grace_seconds: float = 10.0,
        poll_seconds: float = 0.1,
    ) -> None:
        self.specs = list(specs)
        self.writer = writer
        self.grace_seconds = grace_seconds
        self.poll_seconds = poll_seconds
        self.running: dict[str, subprocess.Popen[str]] = {}
        self.hurry = threading.Event()

    def say(self, text: str) -> None:
        self.writer.line(SELF, text)

    def run_step(self, spec: ProcessSpec, stop: threading.Event) -> int:
        """Run a one-shot child (e.g. the migration) to completion; its exit status."""
        process = spawn(spec, self.writer)
        self.running[spec.name] = process
        while process.poll() is None:
            if stop.wait(self.poll_seconds):
                self.stop()
                return FAILED
        drain(process)
        del self.running[spec.name]
        return process.returncode

    def start(self) -> None:
        for spec in self.specs:
            self.running[spec.name] = spawn(spec, self.writer)
            self.say(f"started {spec.name} (pid {self.running[spec.name].pid})")

    def first_exited(self, stop: threading.Event) -> str | None:
        """Block until ``stop`` is set (None) or a child exits (its name)."""
        while not stop.wait(self.poll_seconds):
            for name, process in self.running.items():
                if process.poll() is not None:
                    return name
        return None

    def run(self, stop: threading.Event) -> int:
        """Start every child, wait for ``stop`` or a death, stop the rest; the exit status."""
        self.start()
        died = self.first_exited(stop)
        if died is None:
            self.say("stopping")
            self.stop()
            return 0
        code = self.running[died].returncode
        drain(self.running[died])
        self.say(f"{died} exited unexpectedly with status {code}; stopping the others")
        self.stop()
        self.say(f"stopped because {died} exited with status {code}")
        return FAILED

    def stop(self) -> None:
        """SIGTERM every live child, wait up to the grace period, then SIGKILL the rest."""
        live = {n: p for n, p in self.running.items() if p.poll() is None}
        for process in live.values():
            _signal(process, signal.SIGTERM, group=False)
        deadline = time.monotonic() + self.grace_seconds
        while any(p.poll() is None for p in live.values()):
            if time.monotonic() > deadline or self.hurry.is_set():
                break
            time.sleep(min(self.poll_seconds, 0.05))
        for name, process in self.running.items():
            if process.poll() is None:
                self.say(f"{name} did not stop in time: SIGKILL")
            _signal(process, signal.SIGKILL, group=True)  # stray grandchildren too
            process.wait()
            drain(process)
        self.running.clear()


def _signal(process: subprocess.Popen[str], signum: signal.Signals, group: bool) -> None:
    try:
        if group:
            os.killpg(process.pid, signum)  # the child leads its own session and group
        else:
            process.send_signal(signum)
    except (ProcessLookupError, PermissionError):
        pass


SignalHandler = Callable[[int, FrameType | None], object] | int | None


def install_stop_signals(stop: threading.Event, hurry: threading.Event) -> dict[int, SignalHandler]:
    """SIGINT/SIGTERM set ``stop``; a second one sets ``hurry`` (SIGKILL without waiting)."""

    def handler(_signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            hurry.set()
        stop.set()

    previous: dict[int, SignalHandler] = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, handler)
    return previous


def restore_signals(previous: Mapping[int, SignalHandler]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
