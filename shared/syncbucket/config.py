"""Settings: one pydantic-settings class read from ``SYNCBUCKET_*`` environment variables.

A bad value is refused at start-up with the variable's name and what was expected
(:class:`ConfigError`), never with a pydantic traceback.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "SYNCBUCKET_"


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=None, extra="ignore", frozen=True
    )

    database_url: str = "sqlite:///syncbucket.db"
    broker_url: str | None = Field(default=None, description="amqp://...; unset = stub broker")
    redis_url: str | None = Field(default=None, description="redis://...; unset = in-process")
    # Every key SyncBucket writes in Redis starts with this: two deployments (or test runs)
    # can share one Redis database without touching each other's rate limits and sessions.
    redis_key_prefix: str = Field(default="syncbucket", min_length=1, max_length=100)
    secret_key: SecretStr | None = Field(
        default=None, description="credential encryption key, at least 32 characters"
    )

    traces_base_url: str = "http://127.0.0.1:8090/traces"
    itportal_base_url: str = "http://127.0.0.1:8090/itportal"
    # Unpublished limits; tools that survive on these portals pace themselves at a few
    # requests per second, so the defaults are deliberately modest.
    traces_rate_per_second: float = Field(default=5.0, gt=0)
    traces_burst: int = Field(default=10, ge=1)
    itportal_rate_per_second: float = Field(default=5.0, gt=0)
    itportal_burst: int = Field(default=10, ge=1)
    portal_connect_timeout_seconds: float = Field(default=10.0, gt=0)
    portal_read_timeout_seconds: float = Field(default=60.0, gt=0)

    # The dispatcher keeps at most this many items queued or running per portal: a few
    # times the pool's capacity, so workers never idle and RabbitMQ never holds a huge
    # backlog (docs/architecture.md §5).
    traces_dispatch_window: int = Field(default=48, ge=1)
    itportal_dispatch_window: int = Field(default=48, ge=1)
    dispatch_interval_seconds: float = Field(default=0.5, gt=0)
    # Retries (docs/architecture.md §10): transient failures only, exponential backoff with jitter.
    max_attempts: int = Field(default=4, ge=1, le=20)
    retry_min_backoff_seconds: float = Field(default=2.0, gt=0)
    retry_max_backoff_seconds: float = Field(default=120.0, gt=0)
    maintenance_max_defer_seconds: float = Field(default=3600.0, gt=0)
    item_time_limit_seconds: float = Field(default=300.0, gt=0)
    # The reaper (docs/architecture.md §2): items queued or running past these are re-released
    # (at most max_item_releases times) and then failed as timed_out.
    item_queued_timeout_seconds: float = Field(default=900.0, gt=0)
    item_running_timeout_seconds: float = Field(default=900.0, gt=0)
    reaper_interval_seconds: float = Field(default=15.0, gt=0)
    max_item_releases: int = Field(default=2, ge=0)
    aggregator_threads: int = Field(default=4, ge=1, le=64)

    # Adaptive back-off (docs/architecture.md §3): a 429 or a burst of 5xx slows the portal's shared
    # bucket for every process, then it recovers on its own.
    ratelimit_max_wait_seconds: float = Field(default=60.0, gt=0)
    ratelimit_slowdown_factor: float = Field(default=0.5, gt=0, lt=1)
    ratelimit_slowdown_min_seconds: float = Field(default=30.0, gt=0)
    ratelimit_slowdown_max_seconds: float = Field(default=300.0, gt=0)
    ratelimit_slowdown_floor_factor: float = Field(default=0.0625, gt=0, le=1)
    ratelimit_slowdown_compound_after_seconds: float = Field(default=5.0, ge=0)
    ratelimit_error_burst_count: int = Field(default=5, ge=1)
    ratelimit_error_burst_window_seconds: float = Field(default=10.0, gt=0)
    # Shared portal sessions (docs/architecture.md §8) and the lockout breaker (§9).
    session_cache_ttl_seconds: float = Field(default=900.0, gt=0)
    session_login_lock_lease_seconds: float = Field(default=120.0, gt=0)
    session_login_lock_wait_seconds: float = Field(default=180.0, gt=0)
    login_breaker_ttl_seconds: float = Field(default=86400.0, gt=0)

    # Metrics (docs/architecture.md §12): one directory and one port per process kind.
    metrics_dir: str = "var/metrics"
    metrics_host: str = "127.0.0.1"
    coordinator_metrics_port: int = Field(default=9101, ge=1, le=65535)
    aggregator_metrics_port: int = Field(default=9102, ge=1, le=65535)
    traces_worker_metrics_port: int = Field(default=9103, ge=1, le=65535)
    itportal_worker_metrics_port: int = Field(default=9104, ge=1, le=65535)

    # The web app (docs/web.md): sessions expire after this long idle, and in any case
    # after the absolute lifetime; the cookie is Secure when served over HTTPS.
    web_session_idle_minutes: float = Field(default=30.0, gt=0)
    web_session_absolute_hours: float = Field(default=12.0, gt=0)
    web_cookie_secure: bool = False
    # Sign-in throttle: after this many failures per account or per address, each further
    # attempt must wait twice as long as the one before, up to the maximum.
    signin_free_failures: int = Field(default=5, ge=1)
    signin_max_delay_seconds: float = Field(default=900.0, gt=0)
    # Dates and times on the pages; the firms are in India.
    web_time_zone: str = "Asia/Kolkata"
    # Live progress: one computation per watched run per tick, fanned out to every watcher.
    progress_tick_seconds: float = Field(default=1.0, gt=0)

    # Upstream systems (docs/events.md): sync requests in, events out.
    progress_event_seconds: float = Field(default=30.0, gt=0)
    request_max_bytes: int = Field(default=1_048_576, ge=1024)
    request_prefetch: int = Field(default=16, ge=1, le=1000)
    integration_secret_grace_hours: float = Field(default=24.0, ge=0)
    requests_metrics_port: int = Field(default=9105, ge=1, le=65535)
    # Leader lease (docs/architecture.md): the dispatcher, reaper and scheduler run in one
    # coordinator at a time; a dead leader's duties move within this many seconds.
    leader_lease_seconds: float = Field(default=10.0, gt=0)
    # Schedules: a fire missed by less than this (coordinators down) still runs once.
    schedule_misfire_grace_seconds: float = Field(default=3600.0, ge=0)
    scheduler_interval_seconds: float = Field(default=5.0, gt=0)

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8080, ge=1, le=65535)
    portal_sim_port: int = Field(default=8090, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "human"] = "json"

    @field_validator("database_url")
    @classmethod
    def _database_url_has_scheme(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError("expected an SQLAlchemy URL such as sqlite:///syncbucket.db")
        return value

    @field_validator("broker_url")
    @classmethod
    def _broker_is_amqp(cls, value: str | None) -> str | None:
        if value and not value.startswith(("amqp://", "amqps://")):
            raise ValueError("expected amqp://user:password@host:port/vhost")
        return value or None

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected redis://host:port/db")
        return value or None

    @field_validator("traces_base_url", "itportal_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("web_time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone such as Asia/Kolkata") from None
        return value

    @field_validator("secret_key")
    @classmethod
    def _key_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("expected at least 32 characters (try: syncbucket keygen)")
        return value

    def dispatch_window(self, portal: str) -> int:
        windows = {"traces": self.traces_dispatch_window, "itportal": self.itportal_dispatch_window}
        return windows[portal]

    def require_secret_key(self) -> str:
        if self.secret_key is None:
            raise ConfigError(
                f"{ENV_PREFIX}SECRET_KEY is not set: it encrypts client credentials at rest. "
                "Generate one with `syncbucket keygen` and export it."
            )
        return self.secret_key.get_secret_value()


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment (``overrides`` win), translating errors."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def _mask_userinfo(text: str) -> str:
    """``scheme://user:password@host`` -> ``scheme://user:***@host``: URLs carry passwords."""
    parts = urlsplit(text)
    if parts.password is None:
        return text
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def _shown_input(field: str, given: object) -> str:
    if "secret" in field or "password" in field:
        return ""
    if isinstance(given, str) and "://" in given:
        return f" (got {_mask_userinfo(given)!r})"
    return f" (got {given!r})"


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"])
        shown = _shown_input(field, error.get("input"))
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"{ENV_PREFIX}{field.upper()}: {message}{shown}")
    return "invalid configuration: " + "; ".join(problems)
