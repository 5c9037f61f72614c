"""When a schedule fires: cron read in its time zone, in UTC, across midnight UTC and DST."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from syncbucket.schedules.cron import Recurrence


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def upcoming(cron: str, zone: str, after: datetime, count: int) -> list[datetime]:
    found = []
    for instant in Recurrence.parse(cron, zone).instants(after):
        found.append(instant)
        if len(found) == count:
            break
    return found


def test_two_in_the_morning_in_kolkata_is_half_past_eight_the_evening_before_in_utc() -> None:
    nightly = Recurrence.parse("0 2 * * *", "Asia/Kolkata")
    assert nightly.next_after(utc(2026, 12, 1, 12, 0)) == utc(2026, 12, 1, 20, 30)
    # Strictly after: at the instant itself the next one is a day later.
    assert nightly.next_after(utc(2026, 12, 1, 20, 30)) == utc(2026, 12, 2, 20, 30)
    assert nightly.local(utc(2026, 12, 1, 20, 30)).isoformat() == "2026-12-02T02:00:00+05:30"


def test_instants_around_midnight_utc() -> None:
    # 05:30 IST is midnight UTC: the UTC date changes exactly at the fire.
    assert upcoming("30 5 * * *", "Asia/Kolkata", utc(2026, 12, 31, 23, 59), 2) == [
        utc(2027, 1, 1, 0, 0),
        utc(2027, 1, 2, 0, 0),
    ]
    # 05:00 IST is 23:30 UTC the day before: a Monday in Kolkata is a Sunday in UTC.
    monday = Recurrence.parse("0 5 * * 1", "Asia/Kolkata")
    fired = monday.next_after(utc(2026, 12, 1, 0, 0))  # a Tuesday
    assert fired == utc(2026, 12, 6, 23, 30)
    assert fired.strftime("%A") == "Sunday" and monday.local(fired).strftime("%A") == "Monday"


def test_the_first_of_the_month_in_kolkata_starts_on_the_last_day_in_utc() -> None:
    monthly = Recurrence.parse("15 0 1 * *", "Asia/Kolkata")
    assert monthly.next_after(utc(2026, 12, 15)) == utc(2026, 12, 31, 18, 45)


def test_the_same_cron_in_utc_is_another_instant() -> None:
    assert Recurrence.parse("0 2 * * *", "UTC").next_after(utc(2026, 12, 1)) == utc(
        2026, 12, 1, 2, 0
    )


def test_macros_and_spaces_are_normalised() -> None:
    daily = Recurrence.parse("  @Daily ", "Asia/Kolkata")
    assert daily.cron == "@daily"
    assert daily.next_after(utc(2026, 12, 1, 12)) == utc(2026, 12, 1, 18, 30)
    assert Recurrence.parse("0   2 *  * *", "UTC").cron == "0 2 * * *"


def test_instants_stop_at_until() -> None:
    hourly = Recurrence.parse("0 * * * *", "Asia/Kolkata")  # :00 IST is :30 UTC
    assert list(hourly.instants(utc(2026, 12, 1, 0, 0), utc(2026, 12, 1, 2, 30))) == [
        utc(2026, 12, 1, 0, 30),
        utc(2026, 12, 1, 1, 30),
        utc(2026, 12, 1, 2, 30),
    ]


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        # 02:30 does not exist on 8 Mar 2026 in New York: it fires once, after the gap.
        ("30 2 * * *", [utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7, 0), utc(2026, 3, 9, 6, 30)]),
        # Every 30 minutes simply skips the missing hour.
        (
            "*/30 * * * *",
            [utc(2026, 3, 8, 6, 0), utc(2026, 3, 8, 6, 30), utc(2026, 3, 8, 7, 0)],
        ),
    ],
)
def test_clocks_going_forward_never_double_or_lose_a_day(
    cron: str, expected: list[datetime]
) -> None:
    after = utc(2026, 3, 7, 7, 0) if cron.startswith("30") else utc(2026, 3, 8, 5, 59)
    assert upcoming(cron, "America/New_York", after, 3) == expected


def test_a_wall_clock_time_that_happens_twice_fires_once() -> None:
    # 01:30 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST) on 1 Nov 2026.
    assert upcoming("30 1 * * *", "America/New_York", utc(2026, 10, 31, 12), 2) == [
        utc(2026, 11, 1, 5, 30),
        utc(2026, 11, 2, 6, 30),
    ]


def test_every_half_hour_goes_on_through_the_repeated_hour() -> None:
    assert upcoming("*/30 * * * *", "America/New_York", utc(2026, 11, 1, 4, 59), 5) == [
        utc(2026, 11, 1, 5, 0),
        utc(2026, 11, 1, 5, 30),
        utc(2026, 11, 1, 6, 0),
        utc(2026, 11, 1, 6, 30),
        utc(2026, 11, 1, 7, 0),
    ]
