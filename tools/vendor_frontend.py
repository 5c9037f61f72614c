"""Fetch the web app's front-end files from the npm registry and check them.

The page never loads anything from the internet (firms run SyncBucket on intranets), so
htmx, its SSE extension, Pico CSS and Swagger UI (for the API docs) are committed under
``services/syncbucket_coordinator/web/static/vendor/`` and ship inside the wheel. This
script is the pinned, checked step that put them there:

    python tools/vendor_frontend.py          # verify: refetch each pinned version, compare
    python tools/vendor_frontend.py --write  # (re)write the files and MANIFEST.json

``npm pack`` checks each tarball against the registry's integrity hash; the SHA-256 of
every extracted file is recorded in MANIFEST.json, which a unit test checks against the
committed files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VENDOR = (
    Path(__file__).resolve().parents[1]
    / "services/syncbucket_coordinator/web/static/vendor"
)
# package, version, file inside the tarball, name under vendor/, licence, licence file
PINS = (
    ("htmx.org", "2.0.11", "package/dist/htmx.min.js", "htmx.min.js", "0BSD", "package/LICENSE"),
    (
        "htmx-ext-sse",
        "2.2.4",
        "package/dist/sse.min.js",
        "htmx-ext-sse.min.js",
        "0BSD",
        "package/LICENSE",
    ),
    (
        "@picocss/pico",
        "2.1.1",
        "package/css/pico.min.css",
        "pico.min.css",
        "MIT",
        "package/LICENSE.md",
    ),
    # The API's interactive docs (/api/v1/docs): same origin as the session cookie, so
    # served from here too rather than from a CDN.
    (
        "swagger-ui-dist",
        "5.35.0",
        "package/swagger-ui-bundle.js",
        "swagger-ui-bundle.js",
        "Apache-2.0",
        "package/LICENSE",
    ),
    (
        "swagger-ui-dist",
        "5.35.0",
        "package/swagger-ui.css",
        "swagger-ui.css",
        "Apache-2.0",
        "package/LICENSE",
    ),
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch(package: str, version: str, workdir: Path) -> tarfile.TarFile:
    done = subprocess.run(
        ["npm", "pack", f"{package}@{version}", "--silent", "--pack-destination", str(workdir)],
        check=True,
        capture_output=True,
        text=True,
    )
    return tarfile.open(workdir / done.stdout.strip().splitlines()[-1])


def member(archive: tarfile.TarFile, name: str) -> bytes:
    extracted = archive.extractfile(name)
    if extracted is None:
        raise SystemExit(f"{name} missing from the tarball")
    return extracted.read()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write the files and manifest")
    args = parser.parse_args()
    if shutil.which("npm") is None:
        raise SystemExit("npm is needed (Debian: apt-get install npm)")
    manifest = []
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        for package, version, inner, name, licence, licence_file in PINS:
            with fetch(package, version, Path(tmp)) as archive:
                data = member(archive, inner)
                licence_text = member(archive, licence_file)
            entry = {
                "package": package,
                "version": version,
                "file": name,
                "sha256": sha256(data),
                "licence": licence,
                "licence_file": f"licenses/{name}.LICENSE",
                "source": f"https://registry.npmjs.org/{package} ({inner})",
            }
            manifest.append(entry)
            if args.write:
                (VENDOR / "licenses").mkdir(parents=True, exist_ok=True)
                (VENDOR / name).write_bytes(data)
                (VENDOR / entry["licence_file"]).write_bytes(licence_text)
            elif sha256((VENDOR / name).read_bytes()) != entry["sha256"]:
                problems.append(f"{name} differs from {package}@{version}")
    if args.write:
        text = json.dumps(manifest, indent=2) + "\n"
        (VENDOR / "MANIFEST.json").write_text(text, encoding="utf-8")
        print(f"wrote {len(manifest)} files to {VENDOR}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
