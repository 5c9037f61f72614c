"""``python -m syncbucket_stack``: migrate, then run every SyncBucket process in the foreground.

Service URLs come from ``SYNCBUCKET_*`` (``make stack`` defaults them to the local
PostgreSQL, RabbitMQ and Redis). Ctrl-C or SIGTERM stops everything it started; if one
process dies, the rest are stopped and the exit status is non-zero.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa

from syncbucket.config import ConfigError, load_settings
from syncbucket_stack.output import PrefixedWriter
from syncbucket_stack.plan import (
    SERVICES,
    ensure_database,
    migrate_spec,
    service_specs,
    with_secret_key,
)
from syncbucket_stack.supervisor import (
    SELF,
    Supervisor,
    install_stop_signals,
    restore_signals,
)

USAGE = 2


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m syncbucket_stack", description=__doc__)
    parser.add_argument("--grace", type=float, default=10.0, help="seconds before SIGKILL")
    parser.add_argument("--secret-file", type=Path, default=Path("var/secret_key"))
    parser.add_argument("--no-migrate", action="store_true", help="skip `syncbucket db upgrade`")
    parser.add_argument(
        "--only",
        default=None,
        help="comma-separated subset of: " + ", ".join(n for n, _ in SERVICES),
    )
    return parser.parse_args(argv)


def prepare(args: argparse.Namespace) -> dict[str, str]:
    """The children's environment; refuses (exit 2) what cannot work."""
    env = with_secret_key(os.environ, args.secret_file)
    env.setdefault("SYNCBUCKET_LOG_FORMAT", "human")
    os.environ.update(env)
    settings = load_settings()
    if settings.broker_url is None:
        raise ConfigError(
            "SYNCBUCKET_BROKER_URL is not set: the stack's processes talk through RabbitMQ "
            "(`make stack` defaults it to amqp://guest:guest@127.0.0.1:5672/)"
        )
    shown = sa.make_url(settings.database_url).render_as_string(hide_password=True)
    if ensure_database(settings.database_url):
        print(f"{SELF}: created database {shown}", flush=True)
    return env


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        env = prepare(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE
    only = frozenset(args.only.split(",")) if args.only else None
    specs = service_specs(env, only)
    writer = PrefixedWriter(sys.stdout, [SELF, "migrate", *(s.name for s in specs)])
    supervisor = Supervisor(specs, writer, grace_seconds=args.grace)
    stop = threading.Event()
    previous = install_stop_signals(stop, supervisor.hurry)
    try:
        if not args.no_migrate and (code := supervisor.run_step(migrate_spec(env), stop)) != 0:
            supervisor.say(f"migration failed with status {code}; nothing started")
            return code or 1
        return supervisor.run(stop)
    finally:
        restore_signals(previous)


if __name__ == "__main__":
    raise SystemExit(main())
