"""Every PromQL expression of the Grafana dashboard, ready to send to Prometheus.

``panel_queries()`` walks the panels (rows included), takes each target's ``expr`` and
substitutes the dashboard's template variables and Grafana's built-in interval
variables, so the e2e test can run each through a real Prometheus HTTP API.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "syncbucket.json"

#: Grafana's built-ins, as Grafana would expand them for a short time range.
BUILTINS: dict[str, str] = {
    "__rate_interval": "1m",
    "__interval": "30s",
    "__interval_ms": "30000",
    "__range": "1h",
    "__range_s": "3600",
    "__range_ms": "3600000",
}
#: ``All`` of a multi-value variable (the dashboard's allValue).
ALL = ".*"
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)")


@dataclass(frozen=True)
class PanelQuery:
    panel: str
    ref_id: str
    expr: str  # with every variable substituted

    @property
    def label(self) -> str:
        return f"{self.panel} [{self.ref_id}]"


def load(path: Path = DASHBOARD) -> dict[str, Any]:
    dashboard: dict[str, Any] = json.loads(path.read_text())
    return dashboard


def iter_panels(dashboard: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])  # a collapsed row keeps its panels inside


def template_values(dashboard: Mapping[str, Any]) -> dict[str, str]:
    """Each template variable at ``All`` (its allValue), else its first option."""
    values: dict[str, str] = {}
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("includeAll"):
            values[variable["name"]] = variable.get("allValue") or ALL
        else:
            options = variable.get("options") or [{"value": ""}]
            values[variable["name"]] = str(options[0]["value"])
    return values


def substitute(expr: str, values: Mapping[str, str]) -> str:
    known = {**BUILTINS, **values}

    def replace(match: re.Match[str]) -> str:
        name = next(group for group in match.groups() if group)
        if name not in known:
            raise KeyError(f"unknown variable ${name} in {expr!r}")
        return known[name]

    return _VARIABLE.sub(replace, expr)


def panel_queries(
    path: Path = DASHBOARD, overrides: Mapping[str, str] | None = None
) -> list[PanelQuery]:
    """Every panel target's expression; ``overrides`` sets variables (e.g. portal=traces)."""
    dashboard = load(path)
    values = {**template_values(dashboard), **(overrides or {})}
    return [
        PanelQuery(panel["title"], target.get("refId", "?"), substitute(target["expr"], values))
        for panel in iter_panels(dashboard)
        for target in panel.get("targets", [])
        if target.get("expr")
    ]
