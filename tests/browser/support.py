"""What the browser tests share: Chromium, axe-core, screenshots and a secret scanner.

- Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright with the flags this
  closed network needs; Playwright never downloads a browser.
- axe-core comes from the npm registry, pinned in ``tests/browser/package-lock.json``
  (``npm ci --prefix tests/browser``, which ``.ci/run`` does); :func:`assert_accessible`
  injects it and fails on any serious or critical violation.
- :class:`Seen` records every HTML, CSV and JSON body a page received, so a test's
  teardown can prove that no portal credential or staff password was ever sent.
- :func:`shot` saves a PNG of the page when ``SYNCBUCKET_SCREENSHOTS`` names a folder
  (``make screenshots`` writes the README's under ``docs/screenshots``).
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, Response

from tests.support.services import in_ci

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
TEXT_TYPES = ("text/html", "text/csv", "application/json")


def unavailable(message: str) -> None:
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def launch(playwright: Playwright) -> Browser:
    if not Path(CHROMIUM).exists():
        unavailable("Debian's chromium is not installed (apt-get install -y chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)


class Seen:
    """Bodies of every textual response a page got, for the secret scan at teardown."""

    def __init__(self) -> None:
        self.bodies: list[tuple[str, str]] = []
        self.console_errors: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("response", self._record)
        page.on("console", lambda msg: self._console(msg.type, msg.text))

    def _console(self, kind: str, text: str) -> None:
        if kind == "error":
            self.console_errors.append(text)

    def _record(self, response: Response) -> None:
        kind = response.headers.get("content-type", "")
        if not kind.startswith(TEXT_TYPES) or response.status in (301, 302, 303):
            return
        # A body the browser dropped (the page navigated away) has nothing to scan.
        with contextlib.suppress(Exception):
            self.bodies.append((response.url, response.text()))

    def add(self, where: str, body: str) -> None:
        self.bodies.append((where, body))

    def leaks(self, secrets: set[str]) -> list[str]:
        found = []
        for url, body in self.bodies:
            for secret in secrets:
                if secret and secret in body:
                    found.append(f"{url} contains a secret ({secret[:3]}...)")
        return found


def assert_accessible(page: Page, what: str) -> None:
    """axe-core on the page as it is now: no serious or critical violation."""
    if not AXE.exists():
        unavailable(f"axe-core is not installed: npm ci --prefix {AXE.parents[2]}")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the page's CSP (no inline
        # scripts) does not govern; a <script> tag would be refused, as it should be.
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    described = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:5])
        for v in bad
    ]
    assert not described, f"{what}: " + "; ".join(described)


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("SYNCBUCKET_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))  # the window, as a person sees it


def text_of(page: Page, selector: str = "main") -> str:
    return " ".join(page.locator(selector).inner_text().split())


def number_in(text: str, pattern: str) -> int:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in {text[:300]!r}"
    return int(found.group(1).replace(",", ""))
