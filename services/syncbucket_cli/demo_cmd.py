"""``syncbucket demo``: the whole sync embedded in one process."""

from __future__ import annotations

import typer

app = typer.Typer()
