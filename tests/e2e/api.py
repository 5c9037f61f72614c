"""The coordinator's HTTP API as the end-to-end tests use it."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.e2e.processes import Stack

TERMINAL = {"completed", "completed_with_errors", "cancelled"}


def start_run(api: httpx.Client, clients: object = "all", modules: object = "all") -> int:
    response = api.post("/runs", json={"clients": clients, "modules": modules})
    assert response.status_code == 201, response.text
    run_id: int = response.json()["run_id"]
    return run_id


def summary(api: httpx.Client, run_id: int) -> dict[str, Any]:
    response = api.get(f"/runs/{run_id}")
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def wait_terminal(
    api: httpx.Client, stack: Stack, run_id: int, timeout: float
) -> tuple[dict[str, Any], float]:
    """The run's final summary and how long it took from this call."""
    started = time.monotonic()

    def probe() -> dict[str, Any] | None:
        current = summary(api, run_id)
        return current if current["status"] in TERMINAL else None

    final = stack.wait_for(f"run {run_id} to end", probe, timeout)
    return final, time.monotonic() - started


def all_items(api: httpx.Client, run_id: int, status: str | None = None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after: int | None = None
    while True:
        params: dict[str, Any] = {"limit": 500}
        if status is not None:
            params["status"] = status
        if after is not None:
            params["after_id"] = after
        response = api.get(f"/runs/{run_id}/items", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        after = page["next_after_id"]
        if after is None:
            return items
