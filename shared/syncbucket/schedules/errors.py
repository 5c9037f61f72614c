"""The schedules' exceptions: each message tells a person what to change.

``InvalidSchedule.field`` names the offending field as the library knows it (``name``,
``cron``, ``time_zone``, ``modules``, ``priority``, ``filter.<filter field>``); the API
prefixes it to its own body fields, the web app points at the form control, the CLI
prints it in front of the message -- the same convention as
:class:`syncbucket.clientmaster.errors.InvalidClientEdit`.
"""

from __future__ import annotations


class ScheduleError(Exception):
    """Base of every error the schedules raise on purpose."""


class InvalidSchedule(ScheduleError):
    """A schedule that cannot be accepted as given; ``field`` names what to change."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ScheduleNameTaken(InvalidSchedule):
    """The firm already has a schedule of this name (names are unique per firm)."""

    def __init__(self, name: str) -> None:
        super().__init__("name", f"a schedule named {name!r} already exists: choose another name")
        self.name = name


class ScheduleNotFound(ScheduleError):
    """No schedule with this id (or name) belongs to this firm; another firm's looks the same."""

    def __init__(self, schedule: int | str) -> None:
        named = f"named {schedule!r}" if isinstance(schedule, str) else str(schedule)
        super().__init__(f"schedule {named} not found")
        self.schedule = schedule
