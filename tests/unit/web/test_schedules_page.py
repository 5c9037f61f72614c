"""The Schedules page: list with next sync and last fires (reasons included), add, pause,
resume, remove -- operators change, everyone reads, nobody sees another firm's."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from syncbucket.db.session import unit_of_work
from syncbucket.domain.roles import Role
from syncbucket.schedules.firing import fire_due_schedules
from syncbucket.schedules.manage import add_schedule
from syncbucket.schedules.spec import schedule_spec
from syncbucket.schedules.views import list_schedules
from tests.unit.web.support import Browser, World, text_of

NIGHTLY = {
    "name": "nightly",
    "cron": "0 2 * * *",
    "time_zone": "Asia/Kolkata",
    "clients": "all",
    "all_modules": "1",
}


def schedule_id(response: httpx.Response, name: str) -> int:
    """The id in the Remove form of the row named ``name``."""
    ids = re.findall(r'action="/schedules/(\d+)/remove"', response.text)
    names = [n.strip() for n in re.findall(r'<td class="name">([^<]+)<', response.text)]
    assert len(ids) == len(names), response.text[:500]
    return int(ids[names.index(name)])


def operator(world: World) -> Browser:
    browser = world.browser(Role.OPERATOR)
    browser.get("/schedules")
    return browser


def test_an_operator_adds_a_schedule_and_sees_its_next_sync(world: World) -> None:
    browser = operator(world)
    made = browser.post("/schedules", NIGHTLY)
    assert made.status_code == 200, text_of(made)[:500]
    page = text_of(made)
    # The clock is 20 Nov 2026 09:00 UTC = 14:30 IST: the first sync is 21 Nov at 02:00 IST.
    assert "Schedule “nightly” added: first sync 21 Nov 2026, 02:00 IST." in page
    assert "0 2 * * * (Asia/Kolkata)" in page and "all active clients" in page
    assert "All modules" in page and "not fired yet" in page
    with unit_of_work(world.sessions) as session:
        (stored,) = list_schedules(session, world.a.id)
    assert stored.created_by == f"ui:{world.a.users[Role.OPERATOR]}" and stored.modules == "all"


def test_a_filter_and_some_modules(world: World) -> None:
    browser = operator(world)
    made = browser.post(
        "/schedules",
        {
            "name": "failed ldc",
            "cron": "30 7 * * 1-5",
            "time_zone": "UTC",
            "clients": "filter",
            "failed_last_time": "1",
            "module": "verify_ldc",
            "sync_module": ["verify_ldc", "return_summary"],
            "priority": "3",
        },
    )
    assert made.status_code == 200, text_of(made)[:500]
    with unit_of_work(world.sessions) as session:
        (stored,) = list_schedules(session, world.a.id)
    assert stored.clients == {"filter": {"failed_last_time": True, "module": "verify_ldc"}}
    assert stored.modules == ["return_summary", "verify_ldc"] and stored.priority == 3
    assert "failed last time (Verify LDC)" in text_of(made) and "(priority 3)" in text_of(made)


def test_problems_are_shown_next_to_their_field(world: World) -> None:
    browser = operator(world)
    bad_cron = browser.post("/schedules", {**NIGHTLY, "cron": "0 2 * *"})
    assert bad_cron.status_code == 422
    assert "cron: Expected 5 fields" in text_of(bad_cron)
    assert re.search(r'id="s-cron"[^>]*aria-invalid="true"', bad_cron.text)
    assert 'value="0 2 * *"' in bad_cron.text  # what was typed stays
    bad_zone = browser.post("/schedules", {**NIGHTLY, "time_zone": "India"})
    assert "time_zone: Unknown time zone 'India'" in text_of(bad_zone)
    no_modules = browser.post("/schedules", {**NIGHTLY, "all_modules": ""})
    assert "modules: Tick at least one module" in text_of(no_modules)
    bad_filter = browser.post(
        "/schedules", {**NIGHTLY, "clients": "filter", "not_synced_days": "0"}
    )
    assert bad_filter.status_code == 422
    assert re.search(r'id="f-days"[^>]*aria-invalid="true"', bad_filter.text)
    assert "not_synced_days: expected 1 to 3650 days" in text_of(bad_filter)
    assert browser.post("/schedules", NIGHTLY).status_code == 200
    taken = browser.post("/schedules", NIGHTLY)
    assert taken.status_code == 422 and "'nightly' already exists" in text_of(taken)
    with unit_of_work(world.sessions) as session:
        assert len(list_schedules(session, world.a.id)) == 1


def test_pause_resume_and_remove_in_place(world: World) -> None:
    browser = operator(world)
    made = browser.post("/schedules", NIGHTLY)
    number = schedule_id(made, "nightly")
    htmx = {"HX-Request": "true", "X-CSRF-Token": browser.csrf}
    paused = browser.client.post(f"/schedules/{number}/pause", headers=htmx)
    assert paused.status_code == 200 and "Schedule “nightly” paused." in text_of(paused)
    assert "Resume nightly" in paused.text and 'id="schedules"' in paused.text
    resumed = browser.post(f"/schedules/{number}/resume")
    assert resumed.status_code == 200 and "Pause nightly" in resumed.text
    assert "21 Nov 2026, 02:00 IST" in text_of(resumed)
    removed = browser.post(f"/schedules/{number}/remove")
    assert "Schedule “nightly” removed." in text_of(removed) and "No schedule yet" in text_of(
        removed
    )
    again = browser.post(f"/schedules/{number}/remove")
    assert again.status_code == 404 and "No such schedule" in text_of(again)
    assert browser.post(f"/schedules/{number}/explode").status_code == 404


def test_skipped_fires_are_shown_with_their_reason(world: World) -> None:
    with unit_of_work(world.sessions) as session:
        made = add_schedule(
            session,
            world.a.id,
            schedule_spec(name="nightly", cron="0 2 * * *", modules=["verify_ldc"]),
            created_by="test",
            now=world.clock(),
        )
    assert made.next_fire_at is not None
    first = fire_due_schedules(world.sessions, made.next_fire_at, grace=timedelta(hours=1))
    (run_id,) = first.run_ids
    fire_due_schedules(
        world.sessions, made.next_fire_at + timedelta(days=1), grace=timedelta(hours=1)
    )
    fire_due_schedules(
        world.sessions, made.next_fire_at + timedelta(days=2, hours=5), grace=timedelta(hours=1)
    )
    page = world.browser(Role.VIEWER).get("/schedules")
    words = text_of(page)
    assert f'href="/runs/{run_id}"' in page.text and "Started run" in words
    assert "Skipped: its previous sync was still running" in words
    assert f"run {run_id} of this schedule has not finished" in words
    assert "Missed: the servers were down" in words and "past the 1 h grace: not run" in words
    runs = world.browser(Role.VIEWER).get("/runs")
    assert "schedule “nightly”" in text_of(runs)


def test_a_viewer_reads_but_cannot_change(world: World) -> None:
    with unit_of_work(world.sessions) as session:
        made = add_schedule(
            session,
            world.a.id,
            schedule_spec(name="nightly", cron="0 2 * * *"),
            created_by="test",
            now=world.clock(),
        )
    viewer = world.browser(Role.VIEWER)
    page = viewer.get("/schedules")
    assert page.status_code == 200 and "nightly" in text_of(page)
    assert "Add a schedule" not in text_of(page) and "Pause nightly" not in page.text
    assert "can read but not change schedules" in text_of(page)
    for path, data in (("/schedules", NIGHTLY), (f"/schedules/{made.id}/pause", {})):
        refused = viewer.post(path, data)
        assert refused.status_code == 403 and "Your role (viewer) cannot" in text_of(refused)
    assert 'href="/schedules"' in viewer.get("/clients").text  # the navigation link


def test_another_firms_schedule_is_out_of_reach(world: World) -> None:
    with unit_of_work(world.sessions) as session:
        theirs = add_schedule(
            session,
            world.b.id,
            schedule_spec(name="bravo nightly", cron="0 2 * * *"),
            created_by="test",
            now=world.clock(),
        )
    browser = operator(world)
    assert "bravo nightly" not in browser.get("/schedules").text
    refused = browser.post(f"/schedules/{theirs.id}/pause")
    assert refused.status_code == 404 and "No such schedule" in text_of(refused)
    with unit_of_work(world.sessions) as session:
        assert list_schedules(session, world.b.id)[0].active


def test_a_form_without_the_csrf_token_changes_nothing(world: World) -> None:
    browser = operator(world)
    response = browser.client.post("/schedules", data=NIGHTLY)
    assert response.status_code == 403 and "Form expired" in text_of(response)
    with unit_of_work(world.sessions) as session:
        assert list_schedules(session, world.a.id) == []


def test_schedule_this_filter_prefills_the_form(world: World) -> None:
    browser = operator(world)
    clients = browser.get("/clients?failed_last_time=1&module=verify_ldc")
    assert 'href="/schedules?failed_last_time=1&amp;module=verify_ldc"' in clients.text
    page = browser.get("/schedules?failed_last_time=1&module=verify_ldc")
    assert re.search(r'id="s-filter"[^>]*checked', page.text)
    assert re.search(r'id="f-failed"[^>]*checked', page.text)
    assert "Schedule this filter" not in world.browser(Role.VIEWER).get("/clients").text
