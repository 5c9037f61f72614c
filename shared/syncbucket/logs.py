"""Structured logs: one JSON object per line, with the item's context, never a credential.

Every event carries ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``message`` and, when
known, the context fields of :data:`CONTEXT_FIELDS`, set for a block of code with
:func:`log_context` (contextvars: safe across threads and asyncio tasks). Other ``extra``
keys follow. :class:`RedactingFilter` masks any key that looks like a credential
(password, pass, token, secret, authorization, cookie), in extras, in the context, in
mapping arguments and in ``key=value`` text of the message. ``LOG_FORMAT=human`` prints
a short line for people (the demo).

Dramatiq worker processes log through a pipe to the dramatiq main process: call
``configure_logging(settings, reuse_handlers=True)`` there to keep that handler and
only change its format.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Protocol, TextIO

CONTEXT_FIELDS = ("run_id", "item_id", "client_tan", "portal", "module", "attempt", "error_code")
REDACTED = "***"
_SENSITIVE = ("password", "pass", "token", "secret", "authorization", "cookie")
_SENSITIVE_TEXT = re.compile(
    r"(?i)\b([\w-]*(?:password|passwd|pass|token|secret|authorization|cookie)[\w-]*)"
    r"(\s*[=:]\s*)((?:Bearer|Basic|Token)\s+\S+|\"[^\"]*\"|'[^']*'|\S+)"
)
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "sb_context",
}
_EMPTY: Mapping[str, object] = MappingProxyType({})
_context: contextvars.ContextVar[Mapping[str, object]] = contextvars.ContextVar(
    "syncbucket_log_context", default=_EMPTY
)


class LogSettings(Protocol):
    @property
    def log_level(self) -> str: ...
    @property
    def log_format(self) -> str: ...


def is_sensitive(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in _SENSITIVE)


def redact(value: object) -> object:
    """``value`` with every credential-like key masked, recursively."""
    if isinstance(value, Mapping):
        return {k: REDACTED if is_sensitive(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def redact_text(text: str) -> str:
    """Mask ``password=...``, ``Authorization: ...`` and the like inside free text."""
    return _SENSITIVE_TEXT.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Add ``fields`` (None = leave out) to every log event inside the block."""
    merged = {**_context.get(), **{k: v for k, v in fields.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> dict[str, object]:
    return dict(_context.get())


class ContextFilter(logging.Filter):
    """Copy the caller's :func:`log_context` onto the record (runs in the caller's thread)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "sb_context"):
            record.sb_context = dict(_context.get())
        return True


class RedactingFilter(logging.Filter):
    """Mask credential-like extras, context and mapping args (formatters mask the text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key in list(record.__dict__):
            if key in _STANDARD:
                continue
            record.__dict__[key] = REDACTED if is_sensitive(key) else redact(record.__dict__[key])
        context = getattr(record, "sb_context", None)
        if isinstance(context, Mapping):
            record.sb_context = redact(context)
        if isinstance(record.args, Mapping):
            record.args = redact(record.args)  # type: ignore[assignment]
        return True


def _fields(record: logging.LogRecord) -> dict[str, object]:
    context = getattr(record, "sb_context", None) or {}
    ordered = {k: context[k] for k in CONTEXT_FIELDS if k in context}
    ordered.update({k: v for k, v in context.items() if k not in ordered})
    for key, value in record.__dict__.items():
        if key not in _STANDARD and key not in ordered:
            ordered[key] = value
    return ordered


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_text(record.getMessage()),
        }
        event.update(_fields(record))
        if record.exc_info:
            event["exception"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(event, default=str, ensure_ascii=False)


class HumanFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        fields = " ".join(f"{k}={v}" for k, v in _fields(record).items())
        line = f"{when} {record.levelname:<7} {record.name}: {redact_text(record.getMessage())}"
        line = f"{line}  [{fields}]" if fields else line
        if record.exc_info:
            line += "\n" + redact_text(self.formatException(record.exc_info))
        return line


def make_formatter(log_format: str) -> logging.Formatter:
    return HumanFormatter() if log_format == "human" else JsonFormatter()


def configure_logging(
    settings: LogSettings, *, stream: TextIO | None = None, reuse_handlers: bool = False
) -> None:
    """Root logger at ``LOG_LEVEL`` in ``LOG_FORMAT``, context and redaction on every handler.

    By default one stream handler (stderr) replaces the root's handlers; with
    ``reuse_handlers`` the existing handlers are kept and only re-formatted.
    """
    root = logging.getLogger()
    root.setLevel(settings.log_level)
    if not (reuse_handlers and root.handlers):
        for old in list(root.handlers):
            root.removeHandler(old)
        root.addHandler(logging.StreamHandler(stream or sys.stderr))
    formatter = make_formatter(settings.log_format)
    for handler in root.handlers:
        handler.setFormatter(formatter)
        for kind in (ContextFilter, RedactingFilter):
            if not any(isinstance(f, kind) for f in handler.filters):
                handler.addFilter(kind())
