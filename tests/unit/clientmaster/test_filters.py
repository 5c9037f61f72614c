"""Client Master filters: parsing, words, round trips, and the one SQL condition."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.clientmaster.filters import (
    MAX_DAYS,
    MAX_SEARCH_LENGTH,
    ClientFilter,
    CredentialFilter,
    InvalidFilter,
    filter_condition,
    parse_filter,
)
from syncbucket.clientmaster.sync_state import Attempted, note_attempt
from syncbucket.db.clients import Client, ClientCredential
from syncbucket.db.runs import Run
from syncbucket.domain.portals import ModuleKey, Portal
from syncbucket.domain.runs import ItemStatus, RunSource
from syncbucket.portals.registry import parts_for
from tests.support.pipeline import NOW, add_firm

FULL = ClientFilter(
    search="acme ltd",
    active=True,
    credentials=CredentialFilter.REJECTED,
    failed_last_time=True,
    not_synced_days=30,
    never_synced=True,
    module=ModuleKey.VERIFY_LDC,
)


# --- parse_filter ------------------------------------------------------------------


def test_parse_every_field_from_query_text() -> None:
    parsed = parse_filter(
        {
            "search": "  acme   ltd ",
            "active": "Yes",
            "credentials": " Rejected ",
            "failed_last_time": "on",
            "not_synced_days": " 30 ",
            "never_synced": "TRUE",
            "module": "verify_ldc",
        }
    )
    assert parsed == FULL


def test_parse_json_values() -> None:
    parsed = parse_filter(
        {"active": False, "failed_last_time": True, "never_synced": False, "not_synced_days": 7}
    )
    assert parsed == ClientFilter(active=False, failed_last_time=True, not_synced_days=7)


@pytest.mark.parametrize(("text", "value"), [("1", True), ("off", False), ("no", False)])
def test_parse_flag_words(text: str, value: bool) -> None:
    assert parse_filter({"active": text}).active is value
    assert parse_filter({"failed_last_time": text}).failed_last_time is value


def test_blank_strings_and_any_mean_not_set() -> None:
    blank = {name: "  " for name in ClientFilter.__dataclass_fields__}
    assert parse_filter(blank) == ClientFilter()
    assert parse_filter(blank).is_empty()
    assert parse_filter({"active": "any", "credentials": "any", "module": "any"}).is_empty()
    assert parse_filter({"search": None, "not_synced_days": ""}).is_empty()
    assert parse_filter({}) == ClientFilter()


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"active": "maybe"}, "active", "expected yes or no, got 'maybe'"),
        ({"failed_last_time": "2"}, "failed_last_time", "expected yes or no"),
        ({"never_synced": "x"}, "never_synced", "expected yes or no"),
        ({"credentials": "good"}, "credentials", "expected one of ok, problem, rejected"),
        ({"not_synced_days": "ten"}, "not_synced_days", "expected a number of days"),
        ({"not_synced_days": "1.5"}, "not_synced_days", "expected a number of days"),
        ({"not_synced_days": "0"}, "not_synced_days", f"expected 1 to {MAX_DAYS} days, got 0"),
        ({"not_synced_days": "-3"}, "not_synced_days", "got -3"),
        ({"not_synced_days": str(MAX_DAYS + 1)}, "not_synced_days", f"got {MAX_DAYS + 1}"),
        ({"module": "nope"}, "module", "unknown module 'nope'; known: return_summary"),
        ({"search": 123}, "search", "expected text"),
        ({"search": "x" * (MAX_SEARCH_LENGTH + 1)}, "search", "at most 100 characters"),
    ],
)
def test_bad_values_name_their_field(values: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(InvalidFilter) as caught:
        parse_filter(values)
    assert caught.value.field == field
    assert words in caught.value.message
    assert str(caught.value).startswith(f"{field}: ")


def test_limits_themselves_are_accepted() -> None:
    assert parse_filter({"not_synced_days": "1"}).not_synced_days == 1
    assert parse_filter({"not_synced_days": str(MAX_DAYS)}).not_synced_days == MAX_DAYS
    assert parse_filter({"search": "y" * MAX_SEARCH_LENGTH}).search == "y" * MAX_SEARCH_LENGTH


def test_unknown_key_is_refused_with_the_known_ones() -> None:
    with pytest.raises(InvalidFilter) as caught:
        parse_filter({"search": "a", "sort": "name", "page": "2"})
    assert caught.value.field == "page"  # the first unknown, alphabetically
    assert "unknown filter" in caught.value.message
    for name in ClientFilter.__dataclass_fields__:
        assert name in caught.value.message


# --- words and round trips ---------------------------------------------------------


def test_describe() -> None:
    assert ClientFilter().describe() == "all clients"
    assert FULL.describe() == (
        "active, matching “acme ltd”, a login was rejected, failed last time (Verify LDC), "
        "not synced for 30 days (Verify LDC), never synced (Verify LDC)"
    )
    assert ClientFilter(active=False).describe() == "inactive"
    assert ClientFilter(credentials=CredentialFilter.MISSING).describe() == "credentials missing"
    # a module alone narrows nothing to describe
    assert ClientFilter(module=ModuleKey.VERIFY_LDC).describe() == "all clients"
    assert ClientFilter(not_synced_days=7).describe() == "not synced for 7 days"


def test_to_dict_holds_only_what_is_set() -> None:
    assert ClientFilter().to_dict() == {}
    assert ClientFilter(active=False, module=ModuleKey.NOTICES_ORDERS).to_dict() == {
        "active": False,
        "module": "notices_orders",
    }
    assert FULL.to_dict() == {
        "search": "acme ltd",
        "active": True,
        "credentials": "rejected",
        "failed_last_time": True,
        "not_synced_days": 30,
        "never_synced": True,
        "module": "verify_ldc",
    }


def test_as_query_is_text() -> None:
    assert FULL.as_query() == {
        "search": "acme ltd",
        "active": "1",
        "credentials": "rejected",
        "failed_last_time": "1",
        "not_synced_days": "30",
        "never_synced": "1",
        "module": "verify_ldc",
    }
    assert ClientFilter(active=False).as_query() == {"active": "0"}


@pytest.mark.parametrize(
    "chosen",
    [
        ClientFilter(),
        FULL,
        ClientFilter(active=False),
        ClientFilter(search="100%_x", credentials=CredentialFilter.UNCHECKED),
        ClientFilter(not_synced_days=1, module=ModuleKey.NOTICES_ORDERS),
    ],
)
def test_round_trips(chosen: ClientFilter) -> None:
    assert parse_filter(chosen.as_query()) == chosen
    assert parse_filter(chosen.to_dict()) == chosen


# --- filter_condition on a real (SQLite) database ----------------------------------


class World:
    """A firm's clients plus helpers to give them credentials and sync history."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.firm_id = add_firm(session)
        run = Run(firm_id=self.firm_id, source=RunSource.API, modules=["verify_ldc"])
        session.add(run)
        session.flush()
        self.run_id = run.id
        self.ids: dict[str, int] = {}

    def client(self, name: str, tan: str, pan: str = "AAAPA0000A", active: bool = True) -> int:
        client = Client(firm_id=self.firm_id, name=name, tan=tan, pan=pan, active=active)
        self.session.add(client)
        self.session.flush()
        self.ids[name] = client.id
        return client.id

    def credentials(self, name: str, *portals: Portal) -> None:
        for portal in portals:
            self.session.add(
                ClientCredential(client_id=self.ids[name], portal=portal.value, secret="token")
            )
        self.session.flush()

    def attempt(
        self,
        name: str,
        module: ModuleKey,
        portal: Portal | None = None,
        *,
        ok: bool = True,
        code: str | None = None,
        at: datetime = NOW,
    ) -> None:
        for where in [portal] if portal else [p.portal for p in parts_for(module)]:
            note_attempt(
                self.session,
                Attempted(
                    self.firm_id,
                    self.ids[name],
                    module.value,
                    where.value,
                    self.run_id,
                    ItemStatus.SUCCEEDED if ok else ItemStatus.FAILED,
                    None if ok else code or "portal_server_error",
                ),
                at,
            )

    def login(self, name: str, portal: Portal, code: str | None) -> None:
        """What the portal said at a login: None = it worked, else the refusal's code."""
        note_attempt(
            self.session,
            Attempted(
                self.firm_id,
                self.ids[name],
                "login_probe",
                portal.value,
                self.run_id,
                ItemStatus.SUCCEEDED if code is None else ItemStatus.FAILED,
                code,
            ),
            NOW,
        )

    def names(self, chosen: ClientFilter, now: datetime = NOW) -> set[str]:
        query = sa.select(Client.name).where(
            Client.firm_id == self.firm_id, filter_condition(chosen, now)
        )
        return set(self.session.scalars(query))


@pytest.fixture
def world(session: Session) -> World:
    return World(session)


@pytest.fixture
def named(world: World) -> World:
    world.client("Acme Traders", "DELA12345B", "ABCCA1234F")
    world.client("Bharat Exports", "MUMB54321C", "ABCFB4321Z")
    world.client("100% Pure", "BLRP00001A", "AAAPP0001A")
    world.client("100 Pure", "BLRP00002A", "AAAPP0002A")
    world.client("A_B Corp", "CHNA00001A", "AAACA0001A")
    world.client("AxB Corp", "CHNA00002A", "AAACA0002A")
    world.client("Back\\slash", "KOLB00001A", "AAACB0001A")
    world.client("Sleeping Ltd", "PUNS00001A", "AAACS0001A", active=False)
    return world


def test_empty_filter_matches_every_client_of_the_firm(named: World) -> None:
    other = World(named.session)
    other.client("Elsewhere", "DELE00001A")
    assert named.names(ClientFilter()) == set(named.ids)
    assert other.names(ClientFilter()) == {"Elsewhere"}


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("acme", {"Acme Traders"}),
        ("TRADERS", {"Acme Traders"}),
        ("dela", {"Acme Traders"}),  # start of the TAN, any case
        ("12345", set()),  # the middle of a TAN is not its start
        ("abcfb", {"Bharat Exports"}),  # start of the PAN
        ("4321Z", set()),
        ("pure", {"100% Pure", "100 Pure"}),
        ("100%", {"100% Pure"}),  # % is a character, not a wildcard
        ("0%", {"100% Pure"}),
        ("a_b", {"A_B Corp"}),  # _ is a character, not any one character
        ("_", {"A_B Corp"}),
        ("k\\s", {"Back\\slash"}),  # and so is the escape character itself
        ("nothing like it", set()),
    ],
)
def test_search(named: World, search: str, expected: set[str]) -> None:
    assert named.names(parse_filter({"search": search})) == expected


def test_active(named: World) -> None:
    assert named.names(ClientFilter(active=False)) == {"Sleeping Ltd"}
    assert "Sleeping Ltd" not in named.names(ClientFilter(active=True))
    assert len(named.names(ClientFilter(active=True))) == len(named.ids) - 1


@pytest.fixture
def logins(world: World) -> World:
    both = (Portal.TRACES, Portal.ITPORTAL)
    for name, stored, said in (
        ("ok", both, {Portal.TRACES: None, Portal.ITPORTAL: None}),
        ("rejected", both, {Portal.TRACES: "invalid_credentials", Portal.ITPORTAL: None}),
        ("locked", both, {Portal.TRACES: None, Portal.ITPORTAL: "locked"}),
        ("half", (Portal.TRACES,), {Portal.TRACES: None}),
        ("unchecked", both, {Portal.TRACES: None}),
        ("none", (), {}),
        ("fresh", both, {}),
    ):
        world.client(name, f"DELX{len(world.ids):05d}A")
        world.credentials(name, *stored)
        for portal, code in said.items():
            world.login(name, portal, code)
    # a failure that says nothing about the credentials leaves "ok" as it was
    world.login("ok", Portal.TRACES, "portal_server_error")
    return world


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (CredentialFilter.OK, {"ok"}),
        (CredentialFilter.REJECTED, {"rejected"}),
        (CredentialFilter.LOCKED, {"locked"}),
        (CredentialFilter.MISSING, {"half", "none"}),
        (CredentialFilter.UNCHECKED, {"unchecked", "fresh"}),
        (CredentialFilter.PROBLEM, {"rejected", "locked", "half", "none"}),
    ],
)
def test_credentials(logins: World, state: CredentialFilter, expected: set[str]) -> None:
    assert logins.names(ClientFilter(credentials=state)) == expected


@pytest.fixture
def history(world: World) -> World:
    day = timedelta(days=1)
    for name in ("never", "fresh", "old", "failing", "mixed", "ldc_only", "half_notices"):
        world.client(name, f"DELH{len(world.ids):05d}A")
    world.attempt("fresh", ModuleKey.RETURN_SUMMARY, at=NOW - day)
    world.attempt("old", ModuleKey.RETURN_SUMMARY, at=NOW - 40 * day)
    world.attempt("failing", ModuleKey.RETURN_SUMMARY, at=NOW - 40 * day)
    world.attempt("failing", ModuleKey.RETURN_SUMMARY, ok=False, at=NOW - day)
    world.attempt("mixed", ModuleKey.RETURN_SUMMARY, at=NOW - day)
    world.attempt("mixed", ModuleKey.VERIFY_LDC, ok=False, code="locked", at=NOW - day)
    world.attempt("ldc_only", ModuleKey.VERIFY_LDC, at=NOW - 2 * day)
    world.attempt("never", ModuleKey.RETURN_SUMMARY, ok=False, at=NOW - day)
    # one of the two parts of notices_orders succeeded, the other never did
    world.attempt("half_notices", ModuleKey.NOTICES_ORDERS, Portal.ITPORTAL, at=NOW - day)
    world.attempt("half_notices", ModuleKey.NOTICES_ORDERS, Portal.TRACES, ok=False, at=NOW - day)
    return world


def test_failed_last_time(history: World) -> None:
    assert history.names(ClientFilter(failed_last_time=True)) == {
        "failing",
        "mixed",
        "never",
        "half_notices",
    }
    narrowed = ClientFilter(failed_last_time=True, module=ModuleKey.VERIFY_LDC)
    assert history.names(narrowed) == {"mixed"}
    notices = ClientFilter(failed_last_time=True, module=ModuleKey.NOTICES_ORDERS)
    assert history.names(notices) == {"half_notices"}  # one part failing is enough


def test_never_synced(history: World) -> None:
    # half_notices synced no module: notices_orders counts only when both parts did
    assert history.names(ClientFilter(never_synced=True)) == {"never", "half_notices"}
    ldc = ClientFilter(never_synced=True, module=ModuleKey.VERIFY_LDC)
    assert history.names(ldc) == {"never", "fresh", "old", "failing", "mixed", "half_notices"}
    notices = ClientFilter(never_synced=True, module=ModuleKey.NOTICES_ORDERS)
    assert history.names(notices) == set(history.ids)


def test_notices_count_as_synced_once_both_parts_succeeded(history: World) -> None:
    history.attempt(
        "half_notices", ModuleKey.NOTICES_ORDERS, Portal.TRACES, at=NOW - timedelta(days=3)
    )
    assert "half_notices" not in history.names(ClientFilter(never_synced=True))
    # synced as of its older part: 3 days ago
    assert "half_notices" in history.names(ClientFilter(not_synced_days=2))
    assert "half_notices" not in history.names(ClientFilter(not_synced_days=3))


def test_not_synced_days(history: World) -> None:
    assert history.names(ClientFilter(not_synced_days=30)) == {
        "never",
        "old",
        "failing",
        "half_notices",
    }
    # "failing" last succeeded 40 days ago: its later failure is not a sync
    assert history.names(ClientFilter(not_synced_days=2)) == {
        "never",
        "old",
        "failing",
        "half_notices",
    }
    ldc = ClientFilter(not_synced_days=1, module=ModuleKey.VERIFY_LDC)
    assert history.names(ldc) == set(history.ids)  # ldc_only synced 2 days ago
    summary = ClientFilter(not_synced_days=30, module=ModuleKey.RETURN_SUMMARY)
    assert history.names(summary) == {"never", "old", "failing", "ldc_only", "half_notices"}


def test_not_synced_days_boundary(world: World) -> None:
    world.client("exactly", "DELB00001A")
    world.client("just_over", "DELB00002A")
    world.attempt("exactly", ModuleKey.VERIFY_LDC, at=NOW - timedelta(days=30))
    world.attempt("just_over", ModuleKey.VERIFY_LDC, at=NOW - timedelta(days=30, seconds=1))
    # synced exactly 30 days ago = synced within the last 30 days
    assert world.names(ClientFilter(not_synced_days=30)) == {"just_over"}
    # the same filter a second later
    assert world.names(ClientFilter(not_synced_days=30), NOW + timedelta(seconds=1)) == {
        "exactly",
        "just_over",
    }


def test_combined_filters_are_all_required(history: World) -> None:
    history.session.execute(
        sa.update(Client).where(Client.id == history.ids["mixed"]).values(active=False)
    )
    assert history.names(ClientFilter(failed_last_time=True, active=True)) == {
        "failing",
        "never",
        "half_notices",
    }
    assert history.names(ClientFilter(failed_last_time=True, active=True, not_synced_days=2)) == {
        "failing",
        "never",
        "half_notices",
    }
    assert history.names(ClientFilter(failed_last_time=True, active=True, never_synced=True)) == {
        "never",
        "half_notices",
    }
    assert history.names(ClientFilter(failed_last_time=True, never_synced=True, search="nev")) == {
        "never"
    }
    assert history.names(ClientFilter(never_synced=True, credentials=CredentialFilter.OK)) == set()


def test_another_firms_history_never_counts(history: World) -> None:
    other = World(history.session)
    other.client("theirs", "DELT00001A")
    other.attempt("theirs", ModuleKey.RETURN_SUMMARY, ok=False)
    assert other.names(ClientFilter(failed_last_time=True)) == {"theirs"}
    assert "theirs" not in history.names(ClientFilter(failed_last_time=True))
