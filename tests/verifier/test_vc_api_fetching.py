"""The web app's VC-API fetching an outside issuer's status lists through
the fence, as its settings allow, against a server on 127.0.0.1."""

import dataclasses
import json
from datetime import date

import pytest

from passport.app import create_app
from passport.db import make_engine, session_scope
from passport.settings import FetchSettings
from verifier.registry_service import MemberInput, save_member

from .support import (
    issuer_key,
    running_server,
    status_list_credential,
    training_credential,
)

ISSUER = issuer_key(6)


@pytest.fixture
def server():
    with running_server() as running:
        for purpose in ("revocation", "suspension"):
            url = f"{running.origin}/status/6-{purpose}"
            running.serve_json(
                f"/status/6-{purpose}", status_list_credential(ISSUER, url, purpose)
            )
        yield running


@pytest.fixture
def outside_member(seeded, server):
    engine = make_engine(seeded.settings.database_url)
    with session_scope(engine) as session:
        save_member(
            session,
            MemberInput(
                did=ISSUER.controller, name="Stour Valley", origins=(server.origin,)
            ),
            editor="test",
        )
    engine.dispose()


def client_with(seeded, fetch: FetchSettings):
    settings = dataclasses.replace(seeded.settings, fetch=fetch)
    return create_app({"SETTINGS": settings, "TESTING": True}).test_client()


def verify(client, server, seeded):
    holder = seeded.documents["valid"]["credentialSubject"]["id"]
    credential = training_credential(
        ISSUER,
        holder,
        "FS",
        date.today(),
        status_url=server.origin + "/status/6",
    )
    body = {"verifiableCredential": credential, "options": {}}
    response = client.post(
        "/credentials/verify", data=json.dumps(body), content_type="application/json"
    )
    status = next(c for c in response.json["checks"] if c["id"] == "status")
    return response, status


def test_status_lists_fetched_when_allowed(seeded, server, outside_member):
    client = client_with(seeded, FetchSettings(allow_http=True, timeout=2))

    response, status = verify(client, server, seeded)

    assert response.status_code == 200, response.json["errors"]
    assert status["passed"] is True
    assert sorted(server.requests) == ["/status/6-revocation", "/status/6-suspension"]


def test_plain_http_not_fetched_by_default(seeded, server, outside_member):
    client = client_with(seeded, FetchSettings())

    response, status = verify(client, server, seeded)

    assert response.status_code == 400
    assert "does not use https" in status["message"]
    assert server.requests == []


def test_offline_app_fetches_nothing(seeded, server, outside_member):
    client = client_with(seeded, FetchSettings(allow_http=True, offline=True))

    response, status = verify(client, server, seeded)

    assert response.status_code == 400
    assert "Offline, and no copy of the status list" in status["message"]
    assert server.requests == []
