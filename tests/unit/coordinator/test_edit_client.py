"""``PATCH /api/v1/clients/{id}``: partial edits, write-only credentials, firm scoping."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from syncbucket.config import Settings
from syncbucket.crypto import CredentialCipher
from syncbucket.db.clients import Client, ClientCredential
from syncbucket.db.session import SessionFactory, unit_of_work
from tests.unit.coordinator.fixtures import Tenant

SECRET = "Pa55-word-never-shown"


def url(client_id: int) -> str:
    return f"/api/v1/clients/{client_id}"


def stored_login(sessions: SessionFactory, settings: Settings, client_id: int, portal: str) -> str:
    cipher = CredentialCipher(settings.require_secret_key())
    with unit_of_work(sessions) as session:
        secret = session.scalar(
            sa.select(ClientCredential.secret).where(
                ClientCredential.client_id == client_id, ClientCredential.portal == portal
            )
        )
    assert secret is not None
    login = cipher.decrypt(secret)
    return f"{login.user_id}:{login.password}"


def test_a_partial_edit_changes_only_what_it_names(
    api: TestClient, firm_a: Tenant, sessions: SessionFactory
) -> None:
    client_id = firm_a.client_ids[0]
    response = api.patch(url(client_id), json={"active": False}, headers=firm_a.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["active"] is False and body["name"] == "Alpha client 0"
    assert body["pan"] == "AAAPA0000A" and body["tan"] == firm_a.tans[0]

    renamed = api.patch(
        url(client_id),
        json={"name": "  Alpha Traders  ", "pan": "aaapa0000a"},
        headers=firm_a.headers,
    ).json()
    assert (renamed["name"], renamed["pan"], renamed["active"]) == (
        "Alpha Traders",
        "AAAPA0000A",
        False,
    )
    with unit_of_work(sessions) as session:
        client = session.get(Client, client_id)
        assert client is not None and (client.name, client.active) == ("Alpha Traders", False)
    again = api.patch(url(client_id), json={"active": True}, headers=firm_a.headers).json()
    assert again["active"] is True


def test_credentials_are_write_only(
    api: TestClient, firm_a: Tenant, sessions: SessionFactory, settings: Settings
) -> None:
    client_id = firm_a.client_ids[1]
    body = {"credentials": {"itportal": {"user": "AAAPA0001A", "password": SECRET}}}
    response = api.patch(url(client_id), json=body, headers=firm_a.headers)
    assert response.status_code == 200, response.text
    assert SECRET not in response.text
    answer = response.json()
    assert answer["credentials"] == {"traces": "unchecked", "itportal": "unchecked"}
    assert sorted(answer["portals"]) == ["itportal", "traces"]
    assert stored_login(sessions, settings, client_id, "itportal") == f"AAAPA0001A:{SECRET}"

    removed = api.patch(
        url(client_id), json={"credentials": {"traces": None}}, headers=firm_a.headers
    ).json()
    assert removed["credentials"]["traces"] == "missing" and removed["portals"] == ["itportal"]


def test_another_firms_client_is_not_found(
    api: TestClient, firm_a: Tenant, firm_b: Tenant, sessions: SessionFactory
) -> None:
    theirs = firm_b.client_ids[0]
    response = api.patch(url(theirs), json={"active": False}, headers=firm_a.headers)
    assert response.status_code == 404
    assert response.json() == {"error": "client_not_found", "message": f"client {theirs} not found"}
    assert api.patch(url(10**6), json={}, headers=firm_a.headers).status_code == 404
    with unit_of_work(sessions) as session:
        client = session.get(Client, theirs)
        assert client is not None and client.active


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"pan": "NOT-A-PAN"}, "pan"),
        ({"name": "   "}, "name"),
        (
            {"credentials": {"traces": {"user": "X", "password": " "}}},
            "credentials.traces.password",
        ),
        ({"credentials": {"traces": {"user": " ", "password": SECRET}}}, "credentials.traces.user"),
        ({"tan": "DELA00009A"}, "tan"),  # the TAN is the client's identity: not editable
        ({"credentials": {"mca": None}}, "credentials.mca.[key]"),
        ({"active": "sometimes"}, "active"),
    ],
)
def test_invalid_edits_name_the_field_and_change_nothing(
    api: TestClient, firm_a: Tenant, sessions: SessionFactory, body: dict[str, object], field: str
) -> None:
    client_id = firm_a.client_ids[2]
    response = api.patch(url(client_id), json=body, headers=firm_a.headers)
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["error"] == "invalid_request"
    assert [f["field"] for f in answer["fields"]] == [field]
    assert SECRET not in response.text
    with unit_of_work(sessions) as session:
        client = session.get(Client, client_id)
        assert client is not None and (client.name, client.pan) == ("Alpha client 2", "AAAPA0002A")


def test_a_token_is_required(api: TestClient, firm_a: Tenant) -> None:
    assert api.patch(url(firm_a.client_ids[0]), json={"active": False}).status_code == 401


def test_openapi_documents_the_edit_with_examples(api: TestClient) -> None:
    document = api.get("/api/v1/openapi.json").json()
    patch = document["paths"]["/api/v1/clients/{client_id}"]["patch"]
    assert {"200", "401", "404", "422"} <= set(patch["responses"])
    schema = document["components"]["schemas"]["EditClientRequest"]
    assert schema["examples"][0] == {"active": False}
    login = document["components"]["schemas"]["PortalLoginIn"]
    assert login["properties"]["password"]["writeOnly"] is True
