"""Editing one client: the CSV import's rules, write-only credentials, firm scope."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.clientmaster.editing import ClientEdit, EditResult, edit_client
from syncbucket.clientmaster.errors import ClientNotFound, InvalidClientEdit
from syncbucket.clientmaster.sync_state import Attempted, note_attempt
from syncbucket.crypto import CredentialCipher, PortalCredentials
from syncbucket.db.client_state import ClientLoginState
from syncbucket.db.clients import Client, ClientCredential
from syncbucket.db.firms import Firm
from syncbucket.db.runs import Run
from syncbucket.domain.portals import Portal
from syncbucket.domain.runs import ItemStatus, RunSource
from tests.support.pipeline import NOW

NAME, PAN = "Acme Traders", "ABCCA1234F"
SECRET = "Pw-SECRET-edit"


@pytest.fixture
def client(session: Session, firm: Firm, cipher: CredentialCipher) -> Client:
    client = Client(firm_id=firm.id, name=NAME, tan="DELA12345B", pan=PAN, demo_note="demo")
    session.add(client)
    session.flush()
    for portal in Portal:
        secret = cipher.encrypt(PortalCredentials(f"old-{portal.value}", "old-password"))
        session.add(ClientCredential(client_id=client.id, portal=portal.value, secret=secret))
    run = Run(firm_id=firm.id, source=RunSource.API, modules=["verify_ldc"])
    session.add(run)
    session.flush()
    for portal, status, code in (
        (Portal.TRACES, ItemStatus.FAILED, "invalid_credentials"),
        (Portal.ITPORTAL, ItemStatus.FAILED, "locked"),
    ):
        note_attempt(
            session,
            Attempted(firm.id, client.id, "verify_ldc", portal.value, run.id, status, code),
            NOW,
        )
    return client


def edit(
    name: str = NAME,
    pan: str = PAN,
    active: bool = True,
    remove: frozenset[Portal] = frozenset(),
    **fields: str,
) -> ClientEdit:
    return ClientEdit(
        name=name, pan=pan, active=active, credential_fields=fields, remove_credentials=remove
    )


def secrets(session: Session, client_id: int) -> dict[str, str]:
    rows = session.execute(
        sa.select(ClientCredential.portal, ClientCredential.secret)
        .where(ClientCredential.client_id == client_id)
        .execution_options(populate_existing=True)
    )
    return {portal: secret for portal, secret in rows}


def login_states(session: Session, client_id: int) -> dict[str, str]:
    rows = session.execute(
        sa.select(ClientLoginState.portal, ClientLoginState.state).where(
            ClientLoginState.client_id == client_id
        )
    )
    return {portal: state for portal, state in rows}


def reload(session: Session, client: Client) -> Client:
    session.refresh(client)
    return client


def test_name_pan_and_active_are_saved_tidied(
    session: Session, firm: Firm, client: Client, cipher: CredentialCipher
) -> None:
    before = secrets(session, client.id)
    result = edit_client(
        session, firm.id, client.id, edit("  Acme   Traders  Pvt ", " abcfa9999z ", False), cipher
    )
    assert result == EditResult((), ())
    saved = reload(session, client)
    assert (saved.name, saved.pan, saved.active, saved.tan) == (
        "Acme Traders Pvt",
        "ABCFA9999Z",
        False,
        "DELA12345B",
    )
    # no credential given: the stored ones, what the portals said of them and the note stay
    assert secrets(session, client.id) == before
    assert login_states(session, client.id) == {"traces": "rejected", "itportal": "locked"}
    assert saved.demo_note == "demo"


@pytest.mark.parametrize(
    ("name", "pan", "field", "words"),
    [
        ("", PAN, "name", "name is empty"),
        ("   ", PAN, "name", "name is empty"),
        ("x" * 201, PAN, "name", "name is longer than 200 characters"),
        (NAME, "", "pan", "PAN is empty"),
        (NAME, "ABC", "pan", "expected 5 letters, 4 digits, 1 letter"),
        (NAME, "ABCXA1234F", "pan", "4th letter 'X' is not a holder type"),
        ("", "ABC", "name", "name is empty"),  # the first bad field is named
    ],
)
def test_bad_name_or_pan_is_refused_naming_the_field(
    session: Session,
    firm: Firm,
    client: Client,
    cipher: CredentialCipher,
    name: str,
    pan: str,
    field: str,
    words: str,
) -> None:
    with pytest.raises(InvalidClientEdit) as caught:
        edit_client(session, firm.id, client.id, edit(name, pan, active=False), cipher)
    assert caught.value.field == field
    assert words in caught.value.message
    saved = reload(session, client)
    assert (saved.name, saved.pan, saved.active) == (NAME, PAN, True)


def test_credentials_are_replaced_when_both_are_given(
    session: Session, firm: Firm, client: Client, cipher: CredentialCipher
) -> None:
    before = secrets(session, client.id)
    result = edit_client(
        session,
        firm.id,
        client.id,
        edit(traces_user="  NEWUSER ", traces_password=f" {SECRET} "),
        cipher,
    )
    assert result == EditResult((Portal.TRACES,), ())
    after = secrets(session, client.id)
    assert after["traces"] != before["traces"]
    assert after["itportal"] == before["itportal"]
    # the user id is trimmed, the password kept exactly as typed
    assert cipher.decrypt(after["traces"]) == PortalCredentials("NEWUSER", f" {SECRET} ")
    assert cipher.decrypt(after["itportal"]) == PortalCredentials("old-itportal", "old-password")
    raw = session.execute(sa.text("SELECT * FROM client_credentials")).all()
    stored = " ".join(str(value) for row in raw for value in row)
    assert "NEWUSER" not in stored and "old-password" not in stored
    assert SECRET not in " ".join(after.values()) and "NEWUSER" not in " ".join(after.values())
    assert SECRET not in stored and SECRET not in repr(result)
    # new credentials: what TRACES said of the old ones is moot, the IT portal's stands
    assert login_states(session, client.id) == {"itportal": "locked"}
    assert reload(session, client).demo_note is None


def test_credentials_for_a_portal_with_none_yet(
    session: Session, firm: Firm, cipher: CredentialCipher
) -> None:
    bare = Client(firm_id=firm.id, name="Bare", tan="DELB12345B", pan=PAN)
    session.add(bare)
    session.flush()
    result = edit_client(
        session,
        firm.id,
        bare.id,
        edit(
            "Bare",
            itportal_user="u1",
            itportal_password="p1",
            traces_user="u2",
            traces_password="p2",
        ),
        cipher,
    )
    assert result.changed_credentials == (Portal.TRACES, Portal.ITPORTAL)
    stored = {p: cipher.decrypt(s) for p, s in secrets(session, bare.id).items()}
    assert stored == {
        "traces": PortalCredentials("u2", "p2"),
        "itportal": PortalCredentials("u1", "p1"),
    }


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"traces_user": "someone"}, "traces_password", "traces_password is empty"),
        ({"traces_password": SECRET}, "traces_user", "traces_user is empty"),
        ({"itportal_user": "x", "itportal_password": "  "}, "itportal_password", "is empty"),
        ({"itportal_user": "u" * 101, "itportal_password": SECRET}, "itportal_user", "over 100"),
        ({"traces_user": "u", "traces_password": "p" * 201}, "traces_password", "over 200"),
    ],
)
def test_half_or_oversized_credentials_are_refused(
    session: Session,
    firm: Firm,
    client: Client,
    cipher: CredentialCipher,
    fields: dict[str, str],
    field: str,
    words: str,
) -> None:
    before = secrets(session, client.id)
    with pytest.raises(InvalidClientEdit) as caught:
        change = ClientEdit(name="Renamed", pan=PAN, active=True, credential_fields=fields)
        edit_client(session, firm.id, client.id, change, cipher)
    assert (caught.value.field, words in caught.value.message) == (field, True)
    assert SECRET not in str(caught.value)  # a reason never quotes a password
    assert secrets(session, client.id) == before
    assert reload(session, client).name == NAME
    assert login_states(session, client.id) == {"traces": "rejected", "itportal": "locked"}


def test_remove_credentials(
    session: Session, firm: Firm, client: Client, cipher: CredentialCipher
) -> None:
    result = edit_client(
        session, firm.id, client.id, edit(remove=frozenset({Portal.ITPORTAL})), cipher
    )
    assert result == EditResult((), (Portal.ITPORTAL,))
    assert set(secrets(session, client.id)) == {"traces"}
    assert login_states(session, client.id) == {"traces": "rejected"}
    # removing is not giving: the demo note (about the credentials given) stays
    assert reload(session, client).demo_note == "demo"


def test_remove_one_portal_and_replace_the_other(
    session: Session, firm: Firm, client: Client, cipher: CredentialCipher
) -> None:
    result = edit_client(
        session,
        firm.id,
        client.id,
        edit(remove=frozenset({Portal.TRACES}), itportal_user="n", itportal_password="p"),
        cipher,
    )
    assert result == EditResult((Portal.ITPORTAL,), (Portal.TRACES,))
    stored = secrets(session, client.id)
    assert set(stored) == {"itportal"}
    assert cipher.decrypt(stored["itportal"]) == PortalCredentials("n", "p")
    assert login_states(session, client.id) == {}


def test_remove_and_give_for_one_portal_is_refused(
    session: Session, firm: Firm, client: Client, cipher: CredentialCipher
) -> None:
    before = secrets(session, client.id)
    change = edit(remove=frozenset({Portal.TRACES}), traces_user="n", traces_password="p")
    with pytest.raises(InvalidClientEdit) as caught:
        edit_client(session, firm.id, client.id, change, cipher)
    assert caught.value.field == "traces_user"
    assert caught.value.message == "give new traces credentials or remove them, not both"
    assert secrets(session, client.id) == before


def test_another_firms_client_cannot_be_edited(
    session: Session, firm: Firm, client: Client, cipher: CredentialCipher
) -> None:
    other = Firm(name="Other firm")
    session.add(other)
    session.flush()
    before = secrets(session, client.id)
    change = edit("Hijacked", traces_user="x", traces_password="y")
    with pytest.raises(ClientNotFound):
        edit_client(session, other.id, client.id, change, cipher)
    with pytest.raises(ClientNotFound):
        edit_client(session, firm.id, 999_999, change, cipher)
    assert reload(session, client).name == NAME
    assert secrets(session, client.id) == before
    assert login_states(session, client.id) == {"traces": "rejected", "itportal": "locked"}


def test_credential_fields_never_show_in_the_edits_repr() -> None:
    change = edit(traces_user="someone", traces_password=SECRET)
    assert SECRET not in repr(change) and "someone" not in repr(change)
