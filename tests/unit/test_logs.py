"""Structured logs: one JSON event per line, context fields, and never a credential."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from syncbucket.config import Settings
from syncbucket.logs import CONTEXT_FIELDS, configure_logging, current_context, log_context

SECRET = "hunter2-Sup3rSecret"


@dataclass
class LogSettings:
    log_level: str = "DEBUG"
    log_format: str = "json"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    buffer = io.StringIO()
    configure_logging(LogSettings(), stream=buffer)
    yield buffer
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def events(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_one_json_event_per_line_with_the_base_fields(stream: io.StringIO) -> None:
    logging.getLogger("syncbucket.test").info("hello %s", "world")
    logging.getLogger("syncbucket.test").warning("multi\nline")
    first, second = events(stream)
    assert first["message"] == "hello world"
    assert first["level"] == "INFO"
    assert first["logger"] == "syncbucket.test"
    assert str(first["ts"]).endswith("+00:00")
    assert second["message"] == "multi\nline"


def test_context_fields_are_attached_in_order_and_nest(stream: io.StringIO) -> None:
    log = logging.getLogger("syncbucket.test")
    with log_context(run_id="r-1", portal="traces", client_tan="DELA12345B"):
        with log_context(item_id=42, module="return_summary", attempt=2, error_code=None):
            log.info("fetching")
        log.info("after")
    log.info("outside")
    inner, after, outside = events(stream)
    assert [k for k in inner if k in CONTEXT_FIELDS] == [
        "run_id",
        "item_id",
        "client_tan",
        "portal",
        "module",
        "attempt",
    ]
    assert inner["attempt"] == 2 and "error_code" not in inner
    assert "item_id" not in after and after["run_id"] == "r-1"
    assert "run_id" not in outside
    assert current_context() == {}


def test_context_does_not_leak_between_threads(stream: io.StringIO) -> None:
    log = logging.getLogger("syncbucket.test")

    def other() -> None:
        log.info("other thread")

    with log_context(run_id="r-2"):
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert "run_id" not in events(stream)[0]


@pytest.mark.parametrize(
    "extra",
    [
        {"password": SECRET},
        {"portal_pass": SECRET},
        {"session_token": SECRET},
        {"client_secret": SECRET},
        {"headers": {"Authorization": f"Bearer {SECRET}", "Accept": "json"}},
        {"cookies": [SECRET]},
        {"request": {"form": {"userId": "ABC", "Password": SECRET}}},
    ],
)
def test_credentials_in_extras_are_masked(stream: io.StringIO, extra: dict[str, object]) -> None:
    logging.getLogger("syncbucket.test").info("login attempt", extra=extra)
    line = stream.getvalue()
    assert SECRET not in line
    assert "***" in line


@pytest.mark.parametrize(
    "message",
    [
        f"login failed password={SECRET}",
        f"Authorization: Bearer {SECRET}",
        f"cookie: {SECRET}",
        f'payload token="{SECRET}"',
    ],
)
def test_credentials_in_message_text_are_masked(stream: io.StringIO, message: str) -> None:
    log = logging.getLogger("syncbucket.test")
    log.error(message)
    log.error("via args %s", message)
    log.error("via mapping %(password)s", {"password": SECRET})
    assert SECRET not in stream.getvalue()


def test_credentials_in_context_and_tracebacks_are_masked(stream: io.StringIO) -> None:
    log = logging.getLogger("syncbucket.test")
    with log_context(run_id="r-3", api_token=SECRET):
        try:
            raise ValueError(f"portal said password={SECRET}")
        except ValueError:
            log.exception("failed")
    (event,) = events(stream)
    assert SECRET not in json.dumps(event)
    assert "ValueError" in str(event["exception"])


def test_human_format_for_the_demo() -> None:
    buffer = io.StringIO()
    root = logging.getLogger()
    saved = list(root.handlers)
    try:
        configure_logging(LogSettings(log_format="human"), stream=buffer)
        with log_context(run_id="r-4", portal="itportal"):
            logging.getLogger("syncbucket.demo").info("run %s done", "r-4")
    finally:
        root.handlers[:] = saved
    line = buffer.getvalue().strip()
    assert "INFO" in line and "syncbucket.demo: run r-4 done" in line
    assert "run_id=r-4 portal=itportal" in line
    assert not line.startswith("{")


def test_levels_come_from_settings() -> None:
    buffer = io.StringIO()
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    try:
        configure_logging(Settings(log_level="WARNING", log_format="json"), stream=buffer)
        logging.getLogger("syncbucket.test").info("hidden")
        logging.getLogger("syncbucket.test").warning("shown")
    finally:
        root.handlers[:] = saved
        root.setLevel(level)
    assert [e["message"] for e in events(buffer)] == ["shown"]


def test_reuse_handlers_keeps_the_existing_handler() -> None:
    buffer = io.StringIO()
    root = logging.getLogger()
    saved = list(root.handlers)
    handler = logging.StreamHandler(buffer)
    root.handlers[:] = [handler]
    try:
        configure_logging(LogSettings(), reuse_handlers=True)
        configure_logging(LogSettings(), reuse_handlers=True)
        assert root.handlers == [handler]
        assert len(handler.filters) == 2
        logging.getLogger("syncbucket.test").info("through the pipe")
    finally:
        root.handlers[:] = saved
    assert events(buffer)[0]["message"] == "through the pipe"
