from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.clientmaster.demo_clients import demo_client
from syncbucket.clientmaster.seed import seed_demo
from syncbucket.crypto import CredentialCipher
from syncbucket.db.clients import Client, ClientCredential
from syncbucket.domain.identifiers import validate_pan, validate_tan
from syncbucket.domain.portals import Portal
from syncbucket.portalsim.accounts import demo_password, wrong_password


def test_demo_identities_are_valid_unique_and_deterministic() -> None:
    clients = [demo_client(i) for i in range(10_000)]
    assert len({c.tan for c in clients}) == 10_000
    for c in clients[:600] + clients[-50:]:
        assert validate_tan(c.tan) == c.tan and validate_pan(c.pan) == c.pan
        assert c.tan[3] == c.name[0] == c.pan[4]  # initial of the deductor's name
    assert demo_client(1234) == demo_client(1234)
    assert validate_tan(demo_client(799_999).tan)


def test_about_two_percent_are_wrong_and_at_least_one_from_twenty() -> None:
    wrong = [c for c in map(demo_client, range(10_000)) if c.wrong_portal is not None]
    assert len(wrong) == 200
    assert {c.wrong_portal for c in wrong} == set(Portal)
    assert sum(demo_client(i).wrong_portal is not None for i in range(20)) == 1


def test_seed_is_idempotent_and_marks_wrong_credentials(
    session: Session, cipher: CredentialCipher
) -> None:
    report = seed_demo(session, 50, cipher)
    assert (report.created, report.existing, report.wrong) == (50, 0, 1)
    assert report.token is not None and report.firm.name == "Demo Firm"
    again = seed_demo(session, 50, cipher)
    assert (again.created, again.existing, again.token) == (0, 50, None)
    more = seed_demo(session, 120, cipher)
    assert (more.created, more.existing, more.wrong) == (70, 50, 2)
    assert session.scalar(sa.select(sa.func.count()).select_from(Client)) == 120
    assert session.scalar(sa.select(sa.func.count()).select_from(ClientCredential)) == 240

    marked = list(session.scalars(sa.select(Client).where(Client.demo_note.is_not(None))))
    expected = {demo_client(i).tan: demo_client(i).wrong_portal for i in (7, 57, 107)}
    assert set(expected.values()) == set(Portal)
    assert sorted(c.tan for c in marked) == sorted(expected)
    for client in marked:
        portal = expected[client.tan]
        assert portal is not None
        assert client.demo_note == f"wrong {portal} password (demo)"
        stored = {c.portal: cipher.decrypt(c.secret) for c in client.credentials}
        assert stored[portal.value].password == wrong_password(portal, client.tan)
        right = next(p for p in Portal if p != portal)
        assert stored[right.value].password == demo_password(right, client.tan)


def test_good_demo_clients_get_the_simulator_passwords(
    session: Session, cipher: CredentialCipher
) -> None:
    seed_demo(session, 3, cipher, firm_name="Elsewhere")
    client = session.scalars(sa.select(Client).where(Client.tan == demo_client(0).tan)).one()
    stored = {c.portal: cipher.decrypt(c.secret) for c in client.credentials}
    for portal in Portal:
        assert stored[portal.value].user_id == client.tan
        assert stored[portal.value].password == demo_password(portal, client.tan)
