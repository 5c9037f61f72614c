"""``syncbucket worker --portal ...``: a thin wrapper over the ``dramatiq`` CLI.

It execs ``python -m dramatiq syncbucket_workers.<portal> --queues portal.<portal>``: the
pool's module is its composition root, the pool consumes its own portal's queue only, and
signals (Ctrl-C, SIGTERM) go straight to Dramatiq, which stops gracefully.

Before the exec it sets up the pool's metrics (docs/architecture.md §12): the multi-process
directory
``<metrics_dir>/worker-<portal>``, emptied (no process of this pool runs yet), and the
port ``<portal>_worker_metrics_port`` on ``metrics_host``, passed in the exec'd
environment: every worker process has them before it imports prometheus_client, and the
pool's fork process serves them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from syncbucket.config import ConfigError, Settings, load_settings
from syncbucket.domain.portals import Portal
from syncbucket.messaging.broker import portal_queue
from syncbucket.metrics.multiproc import pool_environment

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


def metrics_port(settings: Settings, portal: Portal) -> int:
    ports = {
        Portal.TRACES: settings.traces_worker_metrics_port,
        Portal.ITPORTAL: settings.itportal_worker_metrics_port,
    }
    return ports[portal]


def pool_env(settings: Settings, portal: Portal) -> dict[str, str]:
    """This environment plus the pool's metrics directory (emptied now) and port."""
    metrics = pool_environment(
        Path(settings.metrics_dir) / f"worker-{portal.value}",
        port=metrics_port(settings, portal),
        host=settings.metrics_host,
    )
    return {**os.environ, **metrics}


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(2)


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
        raise _fail(f"unknown portal {portal!r}; choose one of: {known}") from None
    try:
        env = pool_env(load_settings(), chosen)
    except (ConfigError, OSError) as exc:
        raise _fail(str(exc)) from None
    argv = dramatiq_argv(chosen, processes, threads)
    os.execve(argv[0], argv, env)  # noqa: S606 - fixed argv, no shell


app.command()(worker)
