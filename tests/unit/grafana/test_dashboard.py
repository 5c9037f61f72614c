"""The Grafana dashboard: its rows, its variable, and every panel query valid PromQL.

Fast check: every expression goes into a throwaway rule file that ``promtool check
rules`` parses (promtool has no query-parse command). Slow check: a real ``prometheus``
answers ``/api/v1/query`` with ``status: success`` for each. Whether they return data is
the e2e test's job (it scrapes a real stack).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.dashboard import DASHBOARD, iter_panels, load, panel_queries, substitute
from tests.support.prometheus import DEPLOY, ROOT, instant_query, prometheus_server, require_binary

PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"
QUERIES = panel_queries()


def test_rows_and_portal_variable() -> None:
    dashboard = load()
    rows = [p["title"] for p in dashboard["panels"] if p["type"] == "row"]
    assert rows == ["Overview", "Per portal", "Per module", "Runs"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["portal"]["includeAll"] and variables["portal"]["multi"]


def test_panels_use_the_provisioned_datasource() -> None:
    provisioned = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())
    uid = provisioned["datasources"][0]["uid"]
    for panel in iter_panels(load()):
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == uid, panel["title"]
            assert panel["targets"], f"{panel['title']} has no query"


def test_panel_ids_are_unique_and_portal_panels_filter_by_portal() -> None:
    panels = list(iter_panels(load()))
    assert len({p["id"] for p in panels}) == len(panels)
    per_portal = [q for q in panel_queries(overrides={"portal": "__PORTAL__"})]
    assert any("__PORTAL__" in q.expr for q in per_portal)


def test_substitution_covers_every_variable() -> None:
    assert substitute('rate(x{p=~"$portal"}[$__rate_interval])', {"portal": ".*"}) == (
        'rate(x{p=~".*"}[1m])'
    )
    with pytest.raises(KeyError, match="unknown variable"):
        substitute("rate(x[$nope])", {})
    for query in QUERIES:
        assert "$" not in query.expr and "[[" not in query.expr, query.label


def test_queries_only_use_known_metrics() -> None:
    catalogue = set(re.findall(r"`(syncbucket_[a-z_]+)`", (ROOT / "docs/metrics.md").read_text()))
    recorded = {
        rule["record"]
        for group in yaml.safe_load((DEPLOY / "rules" / "recording.yml").read_text())["groups"]
        for rule in group["rules"]
    }
    for query in QUERIES:
        for name in re.findall(r"\b(syncbucket[_:][a-z0-9_:]+)", query.expr):
            base = re.sub(r"_(bucket|count|sum)$", "", name)
            assert base in catalogue | recorded, f"{query.label}: {name} is unknown"


def test_every_query_parses(tmp_path: Path) -> None:
    promtool = require_binary("promtool")
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{i}", "expr": q.expr}
                    for i, q in enumerate(QUERIES)
                ],
            }
        ]
    }
    rule_file = tmp_path / "dashboard-queries.yml"
    rule_file.write_text(yaml.safe_dump(rules))
    done = subprocess.run(
        [promtool, "check", "rules", str(rule_file)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_every_query_is_accepted_by_a_real_prometheus(tmp_path: Path) -> None:
    config = tmp_path / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 15s\n")
    with prometheus_server(config, tmp_path) as url:
        failures = {
            q.label: answer
            for q in QUERIES
            if (answer := instant_query(url, q.expr)).get("status") != "success"
        }
    assert not failures


def test_the_dashboard_file_is_the_one_provisioned() -> None:
    provider = yaml.safe_load((PROVISIONING / "dashboards" / "syncbucket.yml").read_text())
    assert provider["providers"][0]["options"]["path"].endswith("/syncbucket")
    assert DASHBOARD.parent.name == "dashboards"


def test_failures_by_cause_groups_match_the_label_vocabulary() -> None:
    """The panel's regexes are the groups of ``syncbucket.metrics.labels`` (docs/metrics.md)."""
    from syncbucket.metrics import labels

    panel = next(p for p in iter_panels(load()) if p["title"] == "Failures by cause")
    firm, portal, other = (t["expr"] for t in panel["targets"])
    firm_codes = "|".join(sorted(labels.FIRM_ERROR_CODES))
    portal_codes = "|".join(sorted(labels.PORTAL_ERROR_CODES))
    assert f'error_code=~"{firm_codes}"' in firm
    assert f'error_code=~"{portal_codes}"' in portal
    assert f'error_code!~"{firm_codes}|{portal_codes}"' in other
    assert all('outcome="failed"' in t["expr"] for t in panel["targets"])
