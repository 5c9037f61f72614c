"""Running the simulator: embedded in a daemon thread (tests, the embedded footprint) or in
the foreground (the ``syncbucket_portalsim`` service, ``syncbucket serve portal-sim``).

    with start_simulator() as sim:          # port 0: an ephemeral port
        client = httpx.Client(base_url=sim.traces_url)
        sim.set_faults("traces", error_5xx_rate=0.2)
        sim.stats()["portals"]["traces"]["rate_limited"]
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import uvicorn

from syncbucket.portalsim.app import create_app
from syncbucket.portalsim.faults import FaultSettings, faults_from_env
from syncbucket.portalsim.state import SimulatorState

START_TIMEOUT_SECONDS = 10.0


class RunningSimulator:
    """A simulator serving from a daemon thread; stop it with ``stop()`` or ``with``."""

    def __init__(self, server: uvicorn.Server, sock: socket.socket, state: SimulatorState) -> None:
        self.state = state
        self._server = server
        self._socket = sock
        host, port = sock.getsockname()[:2]
        self.host: str = host
        self.port: int = port
        self.base_url = f"http://{host}:{port}"
        self.traces_url = f"{self.base_url}/traces"
        self.itportal_url = f"{self.base_url}/itportal"
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"portalsim:{port}", daemon=True
        )

    def _start(self) -> None:
        self.state.stopping.clear()
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the portal simulator did not start on {self.base_url}")
            time.sleep(0.01)
        with socket.create_connection((self.host, self.port), timeout=START_TIMEOUT_SECONDS):
            pass

    def set_faults(self, portal: str, **knobs: Any) -> FaultSettings:
        """Change knobs of one portal at run time (unknown knobs raise ``UnknownKnobError``)."""
        return self.state.set_faults(portal, **knobs)

    def stats(self) -> dict[str, Any]:
        """The ``GET /admin/stats`` document, read directly from the state."""
        return self.state.stats()

    def reset(self) -> None:
        self.state.reset()

    def stop(self, timeout: float = 5.0) -> None:
        self.state.stopping.set()
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():  # a hanging request (timeout fault) holds it up
            self._server.force_exit = True
            self._thread.join(timeout)
        self._socket.close()

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_simulator(
    host: str = "127.0.0.1",
    port: int = 0,
    faults: Mapping[str, FaultSettings] | None = None,
    state: SimulatorState | None = None,
) -> RunningSimulator:
    """Serve a simulator in a daemon thread and return once it accepts connections.

    ``faults`` are the start-up (and ``/admin/reset``) knobs per portal; None reads
    ``SYNCBUCKET_SIM_<PORTAL>_<KNOB>`` from the environment. ``state`` overrides both.
    """
    sim_state = state or SimulatorState(faults if faults is not None else faults_from_env())
    config = uvicorn.Config(
        create_app(sim_state),
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    running = RunningSimulator(uvicorn.Server(config), sock, sim_state)
    running._start()
    return running


def serve(host: str = "127.0.0.1", port: int = 8090, log_level: str = "info") -> None:
    """Serve in the foreground until interrupted; knobs come from the environment."""
    app = create_app(SimulatorState(faults_from_env()))
    uvicorn.run(app, host=host, port=port, log_level=log_level.lower(), lifespan="off")
