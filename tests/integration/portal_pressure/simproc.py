"""The portal simulator as a real process, driven through its /admin API."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from typing import Any

import httpx

from tests.integration.portal_pressure.procs import Proc, wait_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any SYNCBUCKET_* of the caller's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCBUCKET_")}
    env.update(extra or {})
    return env


class SimulatorProcess:
    def __init__(self, knobs: Mapping[str, str] | None = None) -> None:
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        self.traces_url = f"{self.base_url}/traces"
        self.itportal_url = f"{self.base_url}/itportal"
        args = ["-m", "syncbucket_portalsim.main", "--port", str(port), "--log-level", "WARNING"]
        self.proc = Proc("portal-sim", args, clean_env(knobs))
        self._http = httpx.Client(base_url=self.base_url, timeout=10.0)
        wait_for(self._healthy, 20.0, "the portal simulator to answer")

    def _healthy(self) -> bool:
        if not self.proc.alive():
            raise AssertionError(f"the simulator exited:\n{self.proc.output()}")
        try:
            return self._http.get("/admin/health").status_code == 200
        except httpx.TransportError:
            return False

    def set_faults(self, portal: str, **knobs: Any) -> None:
        self._http.put(f"/admin/faults/{portal}", json=knobs).raise_for_status()

    def stats(self, portal: str) -> dict[str, Any]:
        response = self._http.get("/admin/stats")
        response.raise_for_status()
        found: dict[str, Any] = response.json()["portals"][portal]
        return found

    def reset(self) -> None:
        self._http.post("/admin/reset").raise_for_status()

    def close(self) -> None:
        self._http.close()
        self.proc.close()
