"""The stack supervisor, driven with tiny ``python -c`` children."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable

from syncbucket_stack.output import PrefixedWriter
from syncbucket_stack.supervisor import ProcessSpec, Supervisor

PY = sys.executable
SLEEPER = "import time; print('ready', flush=True); time.sleep(60)"
STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)"
)


def spec(name: str, code: str) -> ProcessSpec:
    return ProcessSpec(name, (PY, "-c", code))


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Running:
    """A supervisor running in a thread, as the stack's main loop does."""

    def __init__(self, specs: list[ProcessSpec], grace: float = 5.0) -> None:
        self.out = io.StringIO()
        names = ["stack", *(s.name for s in specs)]
        self.supervisor = Supervisor(specs, PrefixedWriter(self.out, names), grace_seconds=grace)
        self.stop = threading.Event()
        self.status: int | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.status = self.supervisor.run(self.stop)

    def pids(self) -> list[int]:
        return [p.pid for p in self.supervisor.running.values()]

    def finish(self, timeout: float = 20.0) -> int:
        self.thread.join(timeout)
        assert self.status is not None, self.out.getvalue()
        return self.status


def test_output_is_prefixed_and_aligned_and_stop_ends_everything() -> None:
    run = Running([spec("a", SLEEPER), spec("longer-name", SLEEPER)])
    wait_for(lambda: run.out.getvalue().count("ready") == 2)
    pids = run.pids()
    run.stop.set()
    assert run.finish() == 0
    lines = run.out.getvalue().splitlines()
    assert "a           | ready" in lines
    assert "longer-name | ready" in lines
    assert not any(alive(pid) for pid in pids)


def test_a_dying_child_stops_the_others_and_fails_naming_it() -> None:
    dying = "import sys, time; time.sleep(0.3); print('bye', flush=True); sys.exit(3)"
    run = Running([spec("steady", SLEEPER), spec("flaky", dying)])
    wait_for(lambda: "steady | ready" in run.out.getvalue())
    steady_pid = run.supervisor.running["steady"].pid
    assert run.finish() == 1
    text = run.out.getvalue()
    assert "flaky  | bye" in text
    assert "flaky exited unexpectedly with status 3" in text
    assert not alive(steady_pid)


def test_a_child_ignoring_sigterm_is_killed_after_the_grace_period() -> None:
    run = Running([spec("stubborn", STUBBORN)], grace=0.5)
    wait_for(lambda: "ready" in run.out.getvalue())
    pid = run.pids()[0]
    started = time.monotonic()
    run.stop.set()
    assert run.finish() == 0
    assert time.monotonic() - started < 5
    assert "stubborn did not stop in time: SIGKILL" in run.out.getvalue()
    assert not alive(pid)


def test_grandchildren_are_killed_with_their_parent() -> None:
    code = textwrap.dedent(f"""
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", {STUBBORN!r}])
        print("grandchild", child.pid, flush=True)
        time.sleep(60)
    """)
    run = Running([spec("parent", code)], grace=0.5)
    wait_for(lambda: "grandchild" in run.out.getvalue())
    grandchild = int(run.out.getvalue().split("grandchild ")[1].split()[0])
    run.stop.set()
    run.finish()
    wait_for(lambda: not alive(grandchild), timeout=5)


def test_a_failed_step_reports_its_status() -> None:
    out = io.StringIO()
    supervisor = Supervisor([], PrefixedWriter(out, ["stack", "migrate"]))
    status = supervisor.run_step(
        spec("migrate", "print('no'); raise SystemExit(4)"), threading.Event()
    )
    assert status == 4
    assert "migrate | no" in out.getvalue()


def test_colour_on_a_tty_only() -> None:
    out = io.StringIO()
    PrefixedWriter(out, ["x"], colour=True).line("x", "hi")
    PrefixedWriter(out, ["x"]).line("x", "plain")
    assert out.getvalue() == "\x1b[36mx |\x1b[0m hi\nx | plain\n"


SUPERVISED = textwrap.dedent("""
    import sys, threading
    from syncbucket_stack.output import PrefixedWriter
    from syncbucket_stack.supervisor import ProcessSpec, Supervisor, install_stop_signals
    code = "import time; print('ready', flush=True); time.sleep(60)"
    specs = [ProcessSpec(n, (sys.executable, "-c", code)) for n in ("one", "two")]
    supervisor = Supervisor(specs, PrefixedWriter(sys.stdout, ["stack", "one", "two"]))
    stop = threading.Event()
    install_stop_signals(stop, supervisor.hurry)
    sys.exit(supervisor.run(stop))
""")


def test_sigterm_to_the_supervisor_stops_every_child() -> None:
    process = subprocess.Popen(
        [PY, "-c", SUPERVISED], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert process.stdout is not None
    seen: list[str] = []
    while sum("ready" in line for line in seen) < 2:
        seen.append(process.stdout.readline())
        assert seen[-1], "supervisor ended early: " + "".join(seen)
    pids = [int(line.split("pid ")[1].rstrip(")\n")) for line in seen if "(pid " in line]
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=20)
    assert process.returncode == 0, "".join(seen) + rest
    assert "stack | stopping" in rest
    assert len(pids) == 2 and not any(alive(pid) for pid in pids)
