"""The Client Master pages: list (filter, sort, page), import, edit, a client's records."""

from __future__ import annotations

import csv
import io
from datetime import date

import sqlalchemy as sa

from syncbucket.contracts.messages import OutcomeMessage
from syncbucket.db.clients import Client, ClientCredential
from syncbucket.db.items import Item
from syncbucket.db.records_repo import upsert_records
from syncbucket.db.session import unit_of_work
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.records import NoticeOrder
from syncbucket.domain.roles import Role
from syncbucket.pipeline.aggregator import apply_outcome
from syncbucket.pipeline.requests import RunRequest
from syncbucket.pipeline.runs import create_run
from tests.unit.web.support import SECRET_PASSWORD, World, text_of

HEADER = "name,tan,pan,traces_user,traces_password,itportal_user,itportal_password"


def test_the_list_filters_sorts_and_pages(world: World) -> None:
    viewer = world.browser(Role.VIEWER)
    page = text_of(viewer.get("/clients?size=25"))
    assert "Showing 1–4 of 4 clients" in page
    assert all(tan in page for tan in world.a.tans)
    found = text_of(viewer.get(f"/clients?search={world.a.tans[2]}"))
    assert "of 1 client" in found and world.a.tans[2] in found and world.a.tans[1] not in found
    by_tan_desc = viewer.get("/clients?sort=tan&dir=desc").text
    positions = [by_tan_desc.index(tan) for tan in world.a.tans]
    assert positions == sorted(positions, reverse=True)
    assert 'aria-sort="descending"' in by_tan_desc
    missing = text_of(viewer.get("/clients?credentials=missing"))
    assert "of 4 clients" in missing  # no IT-portal credentials stored for any
    bad = viewer.get("/clients?not_synced_days=zero")
    assert bad.status_code == 200 and "not_synced_days" in text_of(bad)


def test_credential_and_sync_state_show_in_the_list(world: World) -> None:
    with unit_of_work(world.sessions) as session:
        run = create_run(
            session,
            RunRequest(firm_id=world.a.id, modules=[ModuleKey.VERIFY_LDC]),
            now=world.clock(),
        )
        items = session.scalars(
            sa.select(Item).where(Item.run_id == run.run_id).order_by(Item.id)
        ).all()
        for index, item in enumerate(items):
            failed = index == 0
            apply_outcome(
                session,
                OutcomeMessage(
                    item_id=item.id,
                    run_id=run.run_id,
                    status="failed" if failed else "succeeded",
                    attempts=1,
                    error_code="invalid_credentials" if failed else None,
                    error_message="the portal rejected the password" if failed else None,
                ),
                world.clock(),
            )
    viewer = world.browser(Role.VIEWER)
    rejected = text_of(viewer.get("/clients?credentials=rejected"))
    assert "of 1 client" in rejected and world.a.tans[0] in rejected
    assert "rejected at last login" in rejected
    failed = text_of(viewer.get("/clients?failed_last_time=1&module=verify_ldc"))
    assert "of 1 client" in failed
    never = text_of(viewer.get("/clients?never_synced=1&module=verify_ldc"))
    assert "of 1 client" in never  # the one that failed never succeeded
    ok = text_of(viewer.get("/clients?credentials=ok"))
    assert "No client matches" in ok  # no IT-portal login was ever judged


def test_import_reports_every_bad_row_and_keeps_the_good_ones(world: World) -> None:
    admin = world.browser(Role.ADMIN)
    admin.get("/clients/import")
    rows = [
        HEADER,
        "Good One,PUNE00001A,AAAPA0001A,PUNE00001A,pw-one-secret,,",
        "Bad Tan,PUNE1,AAAPA0002A,,,,",
        "Good Two,PUNE00003A,AAAPA0003A,,,,",
        "No Password,PUNE00004A,AAAPA0004A,PUNE00004A,,,",
    ]
    response = admin.client.post(
        "/clients/import",
        data={"csrf_token": admin.csrf},
        files={"file": ("clients.csv", "\n".join(rows).encode(), "text/csv")},
    )
    page = text_of(response)
    assert response.status_code == 200
    assert "2 clients imported (2 new, 0 updated), 2 rows rejected" in page
    assert "3 tan TAN 'PUNE1' is not valid" in page
    assert "5 traces_password traces_password is empty but traces_user is given" in page
    assert "pw-one-secret" not in response.text
    with unit_of_work(world.sessions) as session:
        tans = set(session.scalars(sa.select(Client.tan).where(Client.firm_id == world.a.id)))
    assert {"PUNE00001A", "PUNE00003A"} <= tans and "PUNE00004A" not in tans


def test_import_names_swallowed_lines_control_characters_and_bare_rows(world: World) -> None:
    admin = world.browser(Role.ADMIN)
    admin.get("/clients/import")
    rows = [
        HEADER,
        "Bare One,PUNE00001A,AAAPA0001A,,,,",
        "Nul Row,PUNE00002A,AAAPA0002A,PUNE00002A,pw-\x00-secret,,",
        '"Unclosed,PUNE00003A,AAAPA0003A,,,,',
        "Good Two,PUNE00004A,AAAPA0004A,PUNE00004A,pw-two-secret,,",
    ]
    response = admin.client.post(
        "/clients/import",
        data={"csrf_token": admin.csrf},
        files={"file": ("clients.csv", "\n".join(rows).encode(), "text/csv")},
    )
    page = text_of(response)
    assert response.status_code == 200
    assert "1 client imported (1 new, 0 updated), 2 rows rejected" in page
    assert "3 traces_password traces_password contains a control character (U+0000)" in page
    assert "4-5 (whole row) inside the quoted field opened on line 4, never closed" in page
    assert "2 no portal credentials" in page
    assert "pw-" not in response.text


def test_an_unreadable_file_imports_nothing_and_says_why(world: World) -> None:
    admin = world.browser(Role.ADMIN)
    admin.get("/clients/import")
    latin1 = (
        HEADER + "\nGood,PUNE00001A,AAAPA0001A,,,,\nCaf\xe9,PUNE00002A,AAAPA0002A,,,,"
    ).encode("latin-1")
    response = admin.client.post(
        "/clients/import",
        data={"csrf_token": admin.csrf},
        files={"file": ("clients.csv", latin1, "text/csv")},
    )
    assert response.status_code == 422
    assert "first bad byte on line 3" in text_of(response)
    wrong = admin.client.post(
        "/clients/import",
        data={"csrf_token": admin.csrf},
        files={"file": ("clients.csv", b"name,tan\nx,y", "text/csv")},
    )
    assert wrong.status_code == 422 and "Nothing was imported: bad header" in text_of(wrong)


def test_editing_a_client_keeps_credentials_write_only(world: World) -> None:
    admin = world.browser(Role.ADMIN)
    client_id = world.a.client_ids[1]
    form = admin.get(f"/clients/{client_id}/edit")
    assert (
        SECRET_PASSWORD not in form.text and world.a.tans[1] + '"' not in form.text.split("TAN")[-1]
    )
    assert 'name="traces_password" type="password" value=""' in form.text
    bad = admin.post(f"/clients/{client_id}/edit", {"name": "Renamed", "pan": "XYZ", "active": "1"})
    assert bad.status_code == 422 and "pan:" in text_of(bad)
    half = admin.post(
        f"/clients/{client_id}/edit",
        {"name": "Renamed", "pan": "AAAPA0001A", "active": "1", "itportal_user": "someone"},
    )
    assert half.status_code == 422 and "itportal_password is empty" in text_of(half)
    with unit_of_work(world.sessions) as session:
        before = session.scalar(
            sa.select(ClientCredential.secret).where(ClientCredential.client_id == client_id)
        )
    saved = admin.post(
        f"/clients/{client_id}/edit",
        {
            "name": "Renamed Client",
            "pan": "AAAPA0001A",
            "itportal_user": "ITUSER01",
            "itportal_password": "new-it-password-123",
            "remove_traces": "1",
        },
    )
    assert saved.status_code == 303
    page = admin.get(saved.headers["location"])
    assert "The client is saved" in text_of(page) and "inactive" in text_of(page)
    assert "new-it-password-123" not in page.text
    with unit_of_work(world.sessions) as session:
        stored = dict(
            session.execute(
                sa.select(ClientCredential.portal, ClientCredential.secret).where(
                    ClientCredential.client_id == client_id
                )
            ).all()
        )
    assert set(stored) == {"itportal"} and "new-it-password-123" not in stored["itportal"]
    assert before not in stored.values()


def test_a_clients_page_shows_records_and_what_the_latest_sync_changed(world: World) -> None:
    client_id = world.a.client_ids[0]

    def notice(status: str, due: date) -> NoticeOrder:
        return NoticeOrder(
            source="eproceeding",
            reference="ITBA/AST/S/143(2)/2025-26/1000000001",
            title="Notice u/s 143(2)",
            fin_year="2024-25",
            assessment_year="2025-26",
            status=status,
            issued_on=date(2026, 1, 5),
            response_due_on=due,
            section="143(2)",
            detail=None,
        )

    with unit_of_work(world.sessions) as session:
        first = create_run(
            session,
            RunRequest(firm_id=world.a.id, modules=[ModuleKey.NOTICES_ORDERS]),
            now=world.clock(),
        ).run_id
        second = create_run(
            session,
            RunRequest(firm_id=world.a.id, modules=[ModuleKey.NOTICES_ORDERS]),
            now=world.clock(),
        ).run_id
        upsert_records(session, world.a.id, client_id, first, [notice("Open", date(2026, 2, 1))])
        upsert_records(session, world.a.id, client_id, second, [notice("Open", date(2026, 3, 15))])
        for item in session.scalars(
            sa.select(Item).where(Item.run_id == second, Item.client_id == client_id)
        ):
            apply_outcome(
                session,
                OutcomeMessage(item_id=item.id, run_id=second, status="succeeded", attempts=1),
                world.clock(),
            )
    page = text_of(world.browser(Role.VIEWER).get(f"/clients/{client_id}"))
    assert "ITBA/AST/S/143(2)/2025-26/1000000001" in page and "143(2)" in page
    assert "0 new records, 1 changed record in run" in page
    assert "Response due: 2026-02-01 → 2026-03-15" in page
    export = world.browser(Role.VIEWER).get(
        f"/records.csv?export=notices_orders&client_id={client_id}"
    )
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0][:4] == ["Client", "TAN", "Source", "DIN / request no"]
    assert rows[1][3] == "ITBA/AST/S/143(2)/2025-26/1000000001" and len(rows) == 2


def test_a_client_is_added_from_the_page_and_an_existing_tan_is_refused(world: World) -> None:
    admin = world.browser(Role.ADMIN)
    admin.get("/clients/new")
    fields = {
        "name": "Newly Added Traders",
        "tan": "pune00009a",
        "pan": "AAAPN0009A",
        "traces_user": "PUNE00009A",
        "traces_password": "fresh-secret-123",
    }
    added = admin.post("/clients/new", fields)
    assert added.status_code == 303
    page = admin.get(added.headers["location"])
    assert "Newly Added Traders" in text_of(page) and "PUNE00009A" in text_of(page)
    assert "fresh-secret-123" not in page.text
    again = admin.post("/clients/new", fields)
    assert again.status_code == 422 and "already in the Client Master" in text_of(again)
    assert "fresh-secret-123" not in again.text  # a refused form does not echo credentials
    bad = admin.post("/clients/new", {**fields, "tan": "NOPE"})
    assert bad.status_code == 422 and "tan: TAN 'NOPE' is not valid" in text_of(bad)
    assert world.browser(Role.OPERATOR).get("/clients/new").status_code == 403
