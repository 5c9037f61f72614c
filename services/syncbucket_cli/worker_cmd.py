"""``syncbucket worker --portal ...``: a thin wrapper over the ``dramatiq`` CLI."""

from __future__ import annotations

import typer

app = typer.Typer()
