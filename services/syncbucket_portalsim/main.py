"""Entrypoint of the portal simulator service: ``python -m syncbucket_portalsim.main``.

Port: ``--port`` or ``SYNCBUCKET_PORTAL_SIM_PORT`` (8090). Host: ``--host`` or
``SYNCBUCKET_PORTAL_SIM_HOST`` (127.0.0.1; a container passes ``--host 0.0.0.0``).
Fault knobs: ``SYNCBUCKET_SIM_<PORTAL>_<KNOB>`` (see docs/portal-simulator.md).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from syncbucket.config import ConfigError, load_settings
from syncbucket.portalsim.faults import faults_from_env
from syncbucket.portalsim.server import serve


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    settings = load_settings()
    parser = argparse.ArgumentParser(prog="syncbucket-portalsim", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("SYNCBUCKET_PORTAL_SIM_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=settings.portal_sim_port)
    parser.add_argument("--log-level", default=settings.log_level)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    try:
        args = parse_args(argv)
        faults_from_env()  # refuse typos in SYNCBUCKET_SIM_* before binding the port
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    serve(host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
