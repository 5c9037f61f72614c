"""What the end-to-end tests assert about a finished run, and the simulator's own answers."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import sqlalchemy as sa

from syncbucket.clientmaster.demo_clients import demo_client
from syncbucket.clientmaster.seed import demo_credentials
from syncbucket.config import load_settings
from syncbucket.db.clients import Client
from syncbucket.db.engine import make_engine
from syncbucket.db.records_tables import MODULE_MODELS
from syncbucket.domain.portals import ModuleKey, Portal
from syncbucket.pipeline import record_codec
from syncbucket.portals import registry

STATUSES = ("pending", "queued", "running", "succeeded", "failed", "skipped", "cancelled")


def assert_counters_add_up(summary: dict[str, Any]) -> None:
    counts = summary["counts"]
    assert set(counts) == set(STATUSES)
    assert sum(counts.values()) == summary["total_items"]
    assert counts["pending"] == counts["queued"] == counts["running"] == 0
    done = counts["succeeded"] + counts["failed"] + counts["skipped"] + counts["cancelled"]
    assert summary["items_done"] == done == summary["total_items"]
    for breakdown in ("by_module", "by_portal"):
        per_status = Counter[str]()
        for part in summary[breakdown].values():
            per_status.update(part)
        assert dict(per_status) == counts, breakdown


def wrong_credentials(clients: int) -> dict[str, Portal]:
    """TAN -> the portal whose demo password is deliberately wrong."""
    wrong = {}
    for index in range(clients):
        client = demo_client(index)
        if client.wrong_portal is not None:
            wrong[client.tan] = client.wrong_portal
    return wrong


def canonical(content: dict[str, Any]) -> str:
    return json.dumps(content, sort_keys=True, default=str)


def served_records(sim_url: str, index: int) -> dict[str, set[str]]:
    """Module -> canonical contents, fetched straight from the simulator by the portal clients."""
    client = demo_client(index)
    settings = load_settings(
        traces_base_url=f"{sim_url}/traces", itportal_base_url=f"{sim_url}/itportal"
    )
    served: dict[str, set[str]] = {m.value: set() for m in ModuleKey}
    for part in registry.PARTS:
        credentials = demo_credentials(client, part.portal)
        with registry.build_client(
            part.portal, settings=settings, credentials=credentials, tan=client.tan
        ) as portal_client:
            served[part.module.value].update(
                canonical(r.content()) for r in part.fetch(portal_client)
            )
    return served


def stored_records(database_url: str, tan: str) -> tuple[dict[str, set[str]], dict[str, int]]:
    """Module -> canonical contents stored for the client, and distinct natural keys."""
    engine = make_engine(database_url)
    stored: dict[str, set[str]] = {}
    keys: dict[str, int] = {}
    try:
        with engine.connect() as conn:
            client_id = conn.scalar(sa.select(Client.id).where(Client.tan == tan))
            for module, model in MODULE_MODELS.items():
                contents = conn.scalars(
                    sa.select(model.content).where(model.client_id == client_id)
                ).all()
                stored[module.value] = {canonical(c) for c in contents}
                rebuilt = [
                    record_codec.decode({"type": model.record_type.__name__, "content": c})
                    for c in contents
                ]
                keys[module.value] = len({r.natural_key for r in rebuilt})
    finally:
        engine.dispose()
    return stored, keys
