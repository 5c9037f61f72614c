"""A schedule that cannot be accepted is refused with the field to change and why."""

from __future__ import annotations

from typing import Any

import pytest

from syncbucket.clientmaster.filters import ClientFilter
from syncbucket.domain.portals import ModuleKey
from syncbucket.schedules.errors import InvalidSchedule
from syncbucket.schedules.spec import Selection, schedule_spec

VALID: dict[str, Any] = {"name": "nightly", "cron": "0 2 * * *"}


def refusal(**changes: Any) -> InvalidSchedule:
    with pytest.raises(InvalidSchedule) as caught:
        schedule_spec(**{**VALID, **changes})
    return caught.value


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": "   "}, "name", "give the schedule a name"),
        ({"name": "x" * 101}, "name", "at most 100 characters"),
        ({"name": "bad\x00name"}, "name", "printable"),
        ({"cron": ""}, "cron", "give a cron expression"),
        ({"cron": "0 2 * *"}, "cron", "expected 5 fields (minute hour day-of-month"),
        ({"cron": "0 0 2 * * *"}, "cron", "got 6"),
        ({"cron": "61 * * * *"}, "cron", "'61 * * * *' is not a valid cron expression"),
        ({"cron": "every night"}, "cron", "expected 5 fields"),
        ({"cron": "a b c d e"}, "cron", "is not a valid cron expression"),
        ({"cron": "@reboot"}, "cron", "unknown macro '@reboot'"),
        ({"cron": "0 0 31 2 *"}, "cron", "never fires"),
        ({"time_zone": "Asia/Calcutta-ish"}, "time_zone", "unknown time zone 'Asia/Calcutta-ish'"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "use an IANA name, e.g. Asia/Kolkata"),
        ({"time_zone": "../../etc/passwd"}, "time_zone", "unknown time zone"),
        ({"modules": []}, "modules", 'choose "all" or at least one'),
        ({"modules": ["challans"]}, "modules", "unknown module(s) challans; known modules:"),
        ({"modules": "verify_ldc,bogus"}, "modules", "unknown module(s) verify_ldc,bogus"),
        ({"priority": 11}, "priority", "expected 0..10"),
        ({"priority": -1}, "priority", "got -1"),
        ({"priority": True}, "priority", "whole number"),
        ({"client_filter": {"colour": "red"}}, "filter.colour", "unknown filter; known:"),
        ({"client_filter": {"not_synced_days": "0"}}, "filter.not_synced_days", "1 to 3650"),
        ({"client_filter": {"module": "challans"}}, "filter.module", "unknown module"),
        ({"client_filter": ["failed_last_time"]}, "filter", "expected an object"),
    ],
)
def test_each_problem_names_its_field(changes: dict[str, Any], field: str, words: str) -> None:
    problem = refusal(**changes)
    assert problem.field == field
    assert words in problem.message, problem.message
    assert str(problem).startswith(f"{field}: ")


def test_the_first_future_instant_is_checked_too() -> None:
    # 30 February: valid syntax, but no such day, ever.
    assert refusal(cron="0 0 30 2 *").field == "cron"


def test_a_valid_schedule_is_normalised() -> None:
    spec = schedule_spec(
        name="  nightly   challans ",
        cron="0  2 * * *",
        client_filter={"failed_last_time": "1", "module": "verify_ldc", "search": ""},
        modules=["verify_ldc", "return_summary", "verify_ldc"],
        priority=3,
    )
    assert spec.name == "nightly challans"
    assert spec.recurrence.cron == "0 2 * * *" and spec.recurrence.time_zone == "Asia/Kolkata"
    assert spec.modules == (ModuleKey.RETURN_SUMMARY, ModuleKey.VERIFY_LDC)
    assert spec.stored_modules() == ["return_summary", "verify_ldc"]
    assert spec.selection.to_document() == {
        "kind": "filter",
        "filter": {"failed_last_time": True, "module": "verify_ldc"},
    }
    assert spec.priority == 3


def test_all_modules_stays_all_and_an_empty_filter_is_every_client() -> None:
    spec = schedule_spec(**VALID, client_filter={"search": " "}, modules="all")
    assert spec.modules is None and spec.stored_modules() == ["all"]
    assert spec.selection == Selection() and spec.selection.to_document() == {"kind": "all"}
    assert schedule_spec(**VALID, modules=["all"]).modules is None
    chosen = schedule_spec(**VALID, client_filter=ClientFilter(never_synced=True))
    assert chosen.selection.describe() == "active clients matching: never synced"
