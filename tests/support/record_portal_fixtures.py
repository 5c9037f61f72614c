"""Record representative portal-simulator answers as unit-test fixtures.

    .venv/bin/python -m tests.support.record_portal_fixtures

Starts the simulator in-process, runs each module part through the real client with a
recording transport, picks per part a TAN whose data shows the interesting cases (a
"Prior Years" demand, an unknown LDC, a rejected statement, ...) and writes every data
answer of that run to ``tests/unit/portals/fixtures/<module>-<portal>/NN.json`` as
``{"request": {...}, "status": ..., "body": ...}``. Login answers are not recorded (they
hold tokens); the unit tests log in against a scripted fake instead.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from syncbucket.config import Settings, load_settings
from syncbucket.crypto import PortalCredentials
from syncbucket.domain.portals import ModuleKey, Portal
from syncbucket.domain.records import Record
from syncbucket.portals import registry
from syncbucket.portals.base import AnyPortalClient
from syncbucket.portals.traces import verify_ldc
from syncbucket.portalsim.accounts import demo_password, demo_user_id
from syncbucket.portalsim.server import start_simulator

FIXTURES = Path(__file__).resolve().parents[1] / "unit" / "portals" / "fixtures"
AUTH_PATHS = ("/auth/", "/loginapi/")
LDC_TODAY = date(2026, 2, 28)  # the simulator's "today"; the unit tests use the same
MAX_ROWS = 40  # keep fixtures readable
Check = Callable[[Sequence[Any]], bool]


def _has(attr: str, values: set[Any]) -> Check:
    return lambda records: bool(values & {getattr(r, attr) for r in records})


CHECKS: dict[tuple[ModuleKey, Portal], Check] = {
    (ModuleKey.RETURN_SUMMARY, Portal.TRACES): lambda rs: (
        any(r.rejection_reason for r in rs)
        and any(r.status_as_on is None for r in rs)
        and any(r.statement_type == "Correction" for r in rs)
    ),
    (ModuleKey.UNCONSUMED_CHALLANS, Portal.TRACES): lambda rs: any(
        c.status == "Overbooked" for r in rs for c in r.consumption
    ),
    (ModuleKey.NOTICES_ORDERS, Portal.TRACES): lambda rs: len({r.status for r in rs}) >= 2,
    (ModuleKey.OUTSTANDING_DEMAND, Portal.TRACES): lambda rs: (
        _has("fin_year", {"prior"})(rs) and any(r.components for r in rs)
    ),
    (ModuleKey.VERIFY_LDC, Portal.TRACES): lambda rs: (
        _has("verdict", {"invalid"})(rs) and len({r.verdict for r in rs}) >= 3
    ),
    (ModuleKey.FETCH_CHALLANS, Portal.ITPORTAL): lambda rs: any(r.breakup.interest > 0 for r in rs),
    (ModuleKey.NOTICES_ORDERS, Portal.ITPORTAL): lambda rs: (
        len({r.title for r in rs}) >= 2 and len(rs) >= 3
    ),
}


class RecordingTransport(httpx.BaseTransport):
    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.recorded: list[dict[str, Any]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        content = response.read()
        if not any(part in request.url.path for part in AUTH_PATHS):
            self.recorded.append(
                {
                    "request": {
                        "method": request.method,
                        "path": request.url.path,
                        "params": dict(request.url.params),
                        "json": json.loads(request.content) if request.content else None,
                    },
                    "status": response.status_code,
                    "body": json.loads(content),
                }
            )
        return httpx.Response(
            response.status_code, headers=response.headers, content=content, request=request
        )


def _fetch(item: registry.ModulePart, client: AnyPortalClient) -> Sequence[Record]:
    if item.module == ModuleKey.VERIFY_LDC:
        return verify_ldc.fetch(client, today=LDC_TODAY)
    return item.fetch(client)


def record_part(item: registry.ModulePart, settings: Settings) -> tuple[str, list[Any]]:
    check = CHECKS[(item.module, item.portal)]
    for n in range(1, 400):
        tan = f"DELS{n:05d}K"
        transport = RecordingTransport()
        credentials = PortalCredentials(
            user_id=demo_user_id(item.portal, tan), password=demo_password(item.portal, tan)
        )
        client = registry.build_client(
            item.portal, settings=settings, credentials=credentials, tan=tan, transport=transport
        )
        with client:
            records = _fetch(item, client)
        if records and len(records) <= MAX_ROWS and check(records):
            return tan, transport.recorded
    raise SystemExit(f"no TAN shows the cases wanted for {item.module}/{item.portal}")


def main() -> None:
    with start_simulator(port=0) as sim:
        settings = load_settings(traces_base_url=sim.traces_url, itportal_base_url=sim.itportal_url)
        for item in registry.PARTS:
            tan, recorded = record_part(item, settings)
            folder = FIXTURES / f"{item.module.value}-{item.portal.value}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            (folder / "tan.txt").write_text(tan + "\n")
            for i, answer in enumerate(recorded):
                text = json.dumps(answer, indent=1, ensure_ascii=False)
                (folder / f"{i:02d}.json").write_text(text + "\n")
            print(f"{folder.name}: TAN {tan}, {len(recorded)} answers")


if __name__ == "__main__":
    main()
