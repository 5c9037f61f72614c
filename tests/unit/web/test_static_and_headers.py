"""The page loads nothing from the internet: vendored files match their manifest, templates
name no outside URL, and every page carries the security headers."""

from __future__ import annotations

import hashlib
import json
import re

from syncbucket.domain.roles import Role
from syncbucket_coordinator.web.context import STATIC, TEMPLATES
from tests.unit.web.support import World

MANIFEST = STATIC / "vendor" / "MANIFEST.json"


def test_vendored_files_match_their_pinned_versions_and_checksums() -> None:
    entries = json.loads(MANIFEST.read_text(encoding="utf-8"))
    assert {e["package"] for e in entries} == {
        "htmx.org",
        "htmx-ext-sse",
        "@picocss/pico",
        "swagger-ui-dist",
    }
    for entry in entries:
        data = (STATIC / "vendor" / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["file"]
        assert re.fullmatch(r"\d+\.\d+\.\d+", entry["version"])
        assert (STATIC / "vendor" / entry["licence_file"]).stat().st_size > 100
    vendored = {p.name for p in (STATIC / "vendor").iterdir() if p.is_file()}
    assert vendored == {e["file"] for e in entries} | {"MANIFEST.json"}


def test_no_template_or_script_names_an_outside_address() -> None:
    for path in [*TEMPLATES.glob("*.html"), STATIC / "app.js", STATIC / "app.css"]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), path.name
        assert "<script>" not in text and " on" + "click=" not in text, path.name  # CSP: no inline


def test_pages_carry_the_security_headers_and_the_api_keeps_json(world: World) -> None:
    browser = world.browser(Role.VIEWER)
    page = browser.get("/clients")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    script = browser.get("/static/vendor/htmx.min.js")
    assert script.status_code == 200 and "immutable" in script.headers["cache-control"]
    api = world.app_client.get(
        "/api/v1/runs/999999", headers={"Authorization": f"Bearer {world.a.token}"}
    )
    assert api.status_code == 404 and api.json()["error"] == "run_not_found"
    assert "content-security-policy" not in api.headers
    unknown = browser.get("/no-such-page")
    assert unknown.status_code == 404 and "<h1>Not found</h1>" in unknown.text
