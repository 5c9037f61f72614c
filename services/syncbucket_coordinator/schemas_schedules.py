"""The body of ``POST /schedules``: its shape checked here, its meaning by the library.

Pydantic refuses a wrong type, a missing field or an unknown one (422 naming the
field, as for runs); whether the cron expression, the time zone, the modules and the
filter make sense is :func:`syncbucket.schedules.spec.schedule_spec`'s call, so the
API, the CLI and the web app accept and refuse exactly the same schedules. Responses
are the library's own views (:mod:`syncbucket.schedules.views`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

from syncbucket.db.schedules import DEFAULT_TIME_ZONE
from syncbucket.schedules.cron import MAX_CRON_LENGTH, MAX_ZONE_LENGTH
from syncbucket.schedules.spec import MAX_NAME_LENGTH, MAX_PRIORITY, ScheduleSpec, schedule_spec
from syncbucket_coordinator.schemas_in import KNOWN_MODULES, Modules

CLIENTS_HINT = 'expected "all" or {"filter": {...}} (a Client Master filter)'


class ScheduleFilter(BaseModel):
    """The active clients a Client Master filter matches, read again at every fire."""

    model_config = ConfigDict(extra="forbid")

    filter: dict[str, Any] = Field(
        description="search, active, credentials, failed_last_time, not_synced_days, "
        "never_synced, module (the fields of GET /clients, docs/api.md)",
        examples=[{"failed_last_time": True, "module": "verify_ldc"}],
    )


def _kind(value: Any) -> str:
    return "all" if isinstance(value, str) else "by_filter"


ScheduleClients = Annotated[
    Annotated[Literal["all"], Tag("all")] | Annotated[ScheduleFilter, Tag("by_filter")],
    Discriminator(_kind),
]


class CreateScheduleRequest(BaseModel):
    """A periodic sync: which clients and modules, when (cron in a time zone)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "nightly", "cron": "0 2 * * *", "clients": "all", "modules": "all"},
                {
                    "name": "retry failed LDC, weekdays",
                    "cron": "30 7 * * 1-5",
                    "time_zone": "Asia/Kolkata",
                    "clients": {"filter": {"failed_last_time": True, "module": "verify_ldc"}},
                    "modules": ["verify_ldc"],
                    "priority": 5,
                },
            ]
        },
    )

    name: str = Field(
        min_length=1,
        max_length=MAX_NAME_LENGTH,
        description="unique within the firm",
        examples=["nightly"],
    )
    cron: str = Field(
        min_length=1,
        max_length=MAX_CRON_LENGTH,
        description="five fields: minute hour day-of-month month day-of-week "
        "(or @hourly, @daily, @weekly, @monthly, @yearly), read in time_zone",
        examples=["0 2 * * *"],
    )
    time_zone: str = Field(
        default=DEFAULT_TIME_ZONE,
        min_length=1,
        max_length=MAX_ZONE_LENGTH,
        description="IANA time zone the cron expression is read in",
        examples=["Asia/Kolkata"],
    )
    clients: ScheduleClients = Field(
        description='"all" active clients, or {"filter": {...}}: the active clients a Client '
        "Master filter matches when the schedule fires"
    )
    modules: Modules = Field(
        description=f'"all" (also modules added later) or a list of module keys: {KNOWN_MODULES}'
    )
    priority: int | None = Field(
        default=None,
        ge=0,
        le=MAX_PRIORITY,
        description="0..10, higher goes first among the firm's runs; default 0",
    )
    active: bool = Field(default=True, description="false: created paused")

    @field_validator("clients", mode="before")
    @classmethod
    def _all_or_filter(cls, value: Any) -> Any:
        if (isinstance(value, str) and value != "all") or not isinstance(value, str | dict):
            raise ValueError(CLIENTS_HINT)
        return value

    def spec(self) -> ScheduleSpec:
        """The schedule, validated by the library (``InvalidSchedule`` names the field)."""
        chosen = self.clients.filter if isinstance(self.clients, ScheduleFilter) else None
        return schedule_spec(
            name=self.name,
            cron=self.cron,
            time_zone=self.time_zone,
            client_filter=chosen,
            modules=self.modules,
            priority=self.priority,
        )
