"""deploy/prometheus: promtool accepts the config and rules, and the rule tests pass.

Plus what promtool cannot check: every alert has a severity, a summary, a description and
a runbook_url whose anchor exists in docs/operations.md, is tested firing and silent, and
only uses metrics of the catalogue (docs/metrics.md).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.prometheus import DEPLOY, ROOT, require_binary

RULES = sorted((DEPLOY / "rules").glob("*.yml"))
RULE_TESTS = sorted((ROOT / "tests" / "prometheus").glob("*.test.yml"))
RUNBOOK = ROOT / "docs" / "operations.md"
CATALOGUE = ROOT / "docs" / "metrics.md"


def promtool(*args: str | Path) -> None:
    binary = require_binary("promtool")
    done = subprocess.run(
        [binary, *map(str, args)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"promtool {' '.join(map(str, args))}:\n{done.stdout}{done.stderr}"


def alert_rules() -> list[dict[str, Any]]:
    rules = yaml.safe_load((DEPLOY / "rules" / "alerts.yml").read_text())
    return [rule for group in rules["groups"] for rule in group["rules"] if "alert" in rule]


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_promtool_check_config() -> None:
    promtool("check", "config", DEPLOY / "prometheus.yml")


def test_promtool_check_rules() -> None:
    promtool("check", "rules", *RULES)


@pytest.mark.parametrize("test_file", RULE_TESTS, ids=lambda p: p.name)
def test_promtool_test_rules(test_file: Path) -> None:
    promtool("test", "rules", test_file)


def test_there_are_rule_tests() -> None:
    assert {p.name for p in RULE_TESTS} >= {"alerts.test.yml", "recording.test.yml"}


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: r["alert"])
def test_alert_has_severity_text_and_a_runbook_section(rule: dict[str, Any]) -> None:
    assert rule["labels"]["severity"] in {"critical", "warning"}
    annotations = rule["annotations"]
    assert annotations["summary"] and annotations["description"]
    path, _, anchor = annotations["runbook_url"].partition("#")
    assert path == "docs/operations.md"
    anchors = {
        slug(line.lstrip("#")) for line in RUNBOOK.read_text().splitlines() if line.startswith("#")
    }
    assert anchor in anchors, f"no section with anchor #{anchor} in docs/operations.md"


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: r["alert"])
def test_alert_is_tested_firing_and_silent(rule: dict[str, Any]) -> None:
    cases = [
        case
        for test_file in RULE_TESTS
        for group in yaml.safe_load(test_file.read_text())["tests"]
        for case in group.get("alert_rule_test", [])
        if case["alertname"] == rule["alert"]
    ]
    assert any(case.get("exp_alerts") for case in cases), "no test where it fires"
    assert any(not case.get("exp_alerts") for case in cases), "no test where it stays silent"


def test_rules_only_use_catalogue_metrics() -> None:
    documented = set(re.findall(r"`(syncbucket_[a-z_]+)`", CATALOGUE.read_text()))
    suffixes = ("_bucket", "_count", "_sum")
    for rule_file in RULES:
        for name in set(re.findall(r"\bsyncbucket_[a-z_]+", rule_file.read_text())):
            base = next((name.removesuffix(s) for s in suffixes if name.endswith(s)), name)
            assert base in documented, f"{rule_file.name}: {name} is not in docs/metrics.md"
