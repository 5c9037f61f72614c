"""Fault knobs per portal: what they mean, their defaults, and loading them from the environment.

Every knob can be set at start with ``SYNCBUCKET_SIM_<PORTAL>_<KNOB>`` (e.g.
``SYNCBUCKET_SIM_TRACES_ERROR_5XX_RATE=0.1``) or at run time with
``PUT /admin/faults/{portal}``. Defaults: no fault at all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from syncbucket.config import ConfigError
from syncbucket.domain.portals import Portal

ENV_PREFIX = "SYNCBUCKET_SIM_"
PORTALS: tuple[str, ...] = tuple(portal.value for portal in Portal)

Rate = Field(default=0.0, ge=0.0, le=1.0)


class FaultSettings(BaseModel):
    """The knobs of one portal. Rates are fractions of requests (0..1)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latency_ms_min: int = Field(default=0, ge=0)
    latency_ms_max: int = Field(default=0, ge=0, description="below min means exactly min")
    error_5xx_rate: float = Rate
    timeout_rate: float = Rate
    timeout_hang_seconds: float = Field(default=30.0, ge=0.0)
    html_rate: float = Rate
    truncated_rate: float = Rate
    maintenance: bool = False
    maintenance_retry_after_seconds: int = Field(default=60, ge=1)
    rate_limit_per_second: float = Field(default=0.0, ge=0.0, description="0 = no limit")
    rate_limit_burst: int = Field(default=10, ge=1)
    session_ttl_seconds: float = Field(default=1800.0, gt=0.0)
    session_expiry_style: Literal["410", "html", "mixed"] = "410"
    max_sessions: int = Field(default=4, ge=1, description="IT portal: live sessions per user")
    data_epoch: int = Field(default=0, ge=0)
    change_ratio: float = Field(default=0.2, ge=0.0, le=1.0)


KNOBS: tuple[str, ...] = tuple(FaultSettings.model_fields)


class UnknownKnobError(ValueError):
    """Fault knobs that do not exist; ``names`` lists them."""

    def __init__(self, names: list[str]) -> None:
        self.names = sorted(names)
        super().__init__(
            f"unknown fault knob(s): {', '.join(self.names)}; known knobs: {', '.join(KNOBS)}"
        )


def check_portal(portal: str) -> str:
    if portal not in PORTALS:
        raise ValueError(f"unknown portal {portal!r}; known portals: {', '.join(PORTALS)}")
    return portal


def updated(current: FaultSettings, knobs: Mapping[str, Any]) -> FaultSettings:
    """``current`` with ``knobs`` changed; unknown knobs raise :class:`UnknownKnobError`."""
    unknown = [name for name in knobs if name not in KNOBS]
    if unknown:
        raise UnknownKnobError(unknown)
    return FaultSettings.model_validate({**current.model_dump(), **knobs})


def faults_from_env(environ: Mapping[str, str] | None = None) -> dict[str, FaultSettings]:
    """Read ``SYNCBUCKET_SIM_<PORTAL>_<KNOB>`` for every portal; typos and bad values fail."""
    env = os.environ if environ is None else environ
    return {portal: _portal_from_env(portal, env) for portal in PORTALS}


def _portal_from_env(portal: str, env: Mapping[str, str]) -> FaultSettings:
    prefix = f"{ENV_PREFIX}{portal.upper()}_"
    given = {
        name[len(prefix) :].lower(): value for name, value in env.items() if name.startswith(prefix)
    }
    unknown = sorted(prefix + name.upper() for name in given if name not in KNOBS)
    if unknown:
        raise ConfigError(
            f"unknown simulator setting(s) {', '.join(unknown)}; knobs: {', '.join(KNOBS)}"
        )
    try:
        return FaultSettings.model_validate(given)
    except ValidationError as exc:
        problems = [
            f"{prefix}{str(err['loc'][0]).upper()}: {err['msg']} (got {err.get('input')!r})"
            for err in exc.errors()
        ]
        raise ConfigError("invalid simulator configuration: " + "; ".join(problems)) from None
