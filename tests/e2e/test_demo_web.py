"""``syncbucket demo --serve``: after the run, the web app on the embedded footprint, with
the sign-in it printed; Ctrl-C stops it. (On a terminal the demo serves by default.)"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ADDRESS = re.compile(
    r"Web app: (http://127\.0\.0\.1:\d+)/\s+sign in as (\S+)\s+with\s+password\s+(\S+)"
)


def test_the_demo_keeps_serving_the_web_app_until_ctrl_c(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "from syncbucket_cli.main import run; run()", "demo"]
    args = ["--clients", "8", "--dir", str(tmp_path), "--serve", "--port", "0"]
    env = {**os.environ, "COLUMNS": "200"}
    process = subprocess.Popen(
        [*command, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    output = ""
    try:
        deadline = time.monotonic() + 150
        assert process.stdout is not None
        while (found := ADDRESS.search(" ".join(output.split()))) is None:
            assert time.monotonic() < deadline, output[-3000:]
            line = process.stdout.readline()
            assert line or process.poll() is None, output[-3000:]
            output += line
        url, email, password = found.groups()
        with httpx.Client(base_url=url, timeout=10, follow_redirects=True) as browser:
            for _ in range(100):  # the exec'd coordinator binds its port a moment later
                try:
                    page = browser.get("/signin")
                    break
                except httpx.ConnectError:
                    time.sleep(0.2)
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert token is not None
            signed = browser.post(
                "/signin", data={"email": email, "password": password, "csrf_token": token.group(1)}
            )
            assert signed.status_code == 200 and "Client Master" in signed.text
            run = browser.get("/runs/1")
            assert run.status_code == 200 and "Sync completed" in run.text
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
