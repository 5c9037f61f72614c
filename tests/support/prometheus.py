"""Finding ``promtool`` / ``prometheus`` and running a throwaway Prometheus server.

Both come from the Debian package ``prometheus``. Missing: the test fails under CI=true
and skips elsewhere, saying what to install (docs/architecture.md §13).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.services import in_ci

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "prometheus"
INSTALL_HINT = "apt-get update && apt-get install -y prometheus"


def require_binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        message = f"{name} is not installed (Debian package prometheus: {INSTALL_HINT})"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def prometheus_server(config: Path, data_dir: Path) -> Iterator[str]:
    """A real ``prometheus`` on a free port with its TSDB in ``data_dir``; yields its URL."""
    binary = require_binary("prometheus")
    port = free_port()
    log = (data_dir / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={data_dir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, data_dir / "prometheus.log")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"prometheus did not become ready: {log.read_text()[-2000:]}")


def instant_query(url: str, expr: str) -> dict[str, object]:
    """``/api/v1/query``; an invalid expression comes back as ``status: error``."""
    data = urllib.parse.urlencode({"query": expr}).encode()
    request = urllib.request.Request(f"{url}/api/v1/query", data=data, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body: dict[str, object] = json.loads(response.read())
    except urllib.error.HTTPError as exc:  # 400/422 carry the error as JSON
        body = json.loads(exc.read())
    return body
