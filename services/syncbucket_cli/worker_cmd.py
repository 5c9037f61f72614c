"""``syncbucket worker --portal ...``: a thin wrapper over the ``dramatiq`` CLI.

It execs ``python -m dramatiq syncbucket_workers.<portal> --queues portal.<portal>``: the
pool's module is its composition root, the pool consumes its own portal's queue only, and
signals (Ctrl-C, SIGTERM) go straight to Dramatiq, which stops gracefully.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from syncbucket.domain.portals import Portal
from syncbucket.messaging.broker import portal_queue

app = typer.Typer()  # standalone use; main.py registers ``worker`` as a plain command

POOL_MODULE = "syncbucket_workers.{portal}"


def dramatiq_argv(portal: Portal, processes: int | None, threads: int | None) -> list[str]:
    argv = [sys.executable, "-m", "dramatiq", POOL_MODULE.format(portal=portal.value)]
    argv += ["--queues", portal_queue(portal)]
    if processes is not None:
        argv += ["--processes", str(processes)]
    if threads is not None:
        argv += ["--threads", str(threads)]
    return argv


def worker(
    portal: Annotated[
        str, typer.Option(help=f"The pool's portal: {', '.join(p.value for p in Portal)}.")
    ],
    processes: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (Dramatiq's default: CPUs).")
    ] = None,
    threads: Annotated[
        int | None, typer.Option(min=1, help="Threads per process (Dramatiq's default: 8).")
    ] = None,
) -> None:
    """Run a portal's worker pool (Dramatiq) on its queue portal.<portal>."""
    try:
        chosen = Portal(portal)
    except ValueError:
        known = ", ".join(p.value for p in Portal)
        typer.secho(
            f"error: unknown portal {portal!r}; choose one of: {known}",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(2) from None
    argv = dramatiq_argv(chosen, processes, threads)
    os.execv(argv[0], argv)  # noqa: S606 - fixed argv, no shell


app.command()(worker)
