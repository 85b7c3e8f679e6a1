"""``passport registry export`` and ``passport verify --registry FILE``.

The exported file is the signed registry a verifier elsewhere loads. With
it, verification finds the partnership's members without a database, and
``--offline`` uses only status lists fetched before. The platform's own
did:web members' DID documents travel inside the file, so a verifier with
a fresh database resolves them offline.
"""

import json
import re
from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner
from sqlmodel import Session

from issuer.organisations import create_organisation
from issuer.signing import signer_for
from keys.store import KeyStore
from passport.cli import main
from passport.db import make_engine, upgrade_database
from tests.verifier.support import (
    issuer_key,
    running_server,
    status_list_credential,
    training_credential,
)

ISSUER = issuer_key(5)
HOLDER = issuer_key(2).controller
AT = "2026-01-01T00:00:00Z"
PLATFORM_URL = "https://passport.example.org"
PLATFORM_ORGANISATIONS = (
    ("chelmer-valley", "Chelmer Valley Hospitals NHS Foundation Trust"),
    ("colne-estuary", "Colne Estuary University Hospitals NHS Trust"),
)
FOUNDED = datetime(2021, 1, 1, tzinfo=UTC)


@pytest.fixture
def server():
    with running_server() as running:
        yield running


@pytest.fixture
def platform_env(settings, monkeypatch):
    """Environment of a migrated platform database that fetches over HTTP."""
    upgrade_database(settings.database_url)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PASSPORT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PASSPORT_KEY_PASSPHRASE", settings.key_passphrase)
    monkeypatch.setenv("PASSPORT_ALLOW_HTTP_FETCH", "1")
    monkeypatch.setenv("PASSPORT_FETCH_TIMEOUT", "2")
    return settings


def export_registry(runner, server, tmp_path) -> tuple[str, str]:
    """Add the test issuer with ``server`` as its origin and export the file.

    :returns: the file's path and the publisher DID the command printed.
    """
    added = runner.invoke(
        main,
        [
            "registry",
            "add",
            "--did",
            ISSUER.controller,
            "--name",
            "Stour Valley NHS Trust",
            "--cstf-aligned",
            "--from",
            "2021-01-01",
            "--origin",
            server.origin,
        ],
    )
    assert added.exit_code == 0, added.output
    path = tmp_path / "registry.json"
    exported = runner.invoke(main, ["registry", "export", "--out", str(path)])
    assert exported.exit_code == 0, exported.output
    publisher = re.search(r"signed by (did:key:\w+)", exported.output)
    assert publisher is not None, exported.output
    return str(path), publisher.group(1)


def write_credential(server, tmp_path) -> str:
    for purpose in ("revocation", "suspension"):
        url = f"{server.origin}/status/5-{purpose}"
        server.serve_json(
            f"/status/5-{purpose}", status_list_credential(ISSUER, url, purpose)
        )
    credential = training_credential(
        ISSUER, HOLDER, "FS", date(2025, 6, 1), status_url=server.origin + "/status/5"
    )
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(credential))
    return str(path)


def verify(runner, *arguments):
    return runner.invoke(main, ["verify", "--at", AT, *arguments])


def test_export_writes_latest_published(platform_env, server, tmp_path):
    runner = CliRunner()
    path, publisher = export_registry(runner, server, tmp_path)
    again = tmp_path / "again.json"

    runner.invoke(main, ["registry", "export", "--out", str(again)])

    document = json.loads(open(path).read())
    assert document["issuer"] == publisher
    assert json.loads(again.read_text())["id"] == document["id"]
    assert document["credentialSubject"]["member"][0]["fetchOrigin"] == [server.origin]


def test_registry_file_used_without_database(
    platform_env, server, tmp_path, monkeypatch
):
    runner = CliRunner()
    registry, publisher = export_registry(runner, server, tmp_path)
    credential = write_credential(server, tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'none' / 'absent.db'}")

    result = verify(
        runner, "--registry", registry, "--registry-publisher", publisher, credential
    )

    assert result.exit_code == 0, result.output
    assert "PASS  issuer-known: Issued by Stour Valley NHS Trust" in result.output
    assert "PASS  status" in result.output
    assert sorted(server.requests) == ["/status/5-revocation", "/status/5-suspension"]


def test_offline_without_stored_lists_fails_closed(
    platform_env, server, tmp_path, monkeypatch
):
    runner = CliRunner()
    registry, publisher = export_registry(runner, server, tmp_path)
    credential = write_credential(server, tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'none' / 'absent.db'}")

    result = verify(
        runner,
        "--offline",
        "--registry",
        registry,
        "--registry-publisher",
        publisher,
        credential,
    )

    assert result.exit_code == 1, result.output
    assert "FAIL  status" in result.output
    assert "Offline, and no copy of the status list" in result.output
    assert server.requests == []


def test_offline_uses_lists_fetched_before(platform_env, server, tmp_path):
    runner = CliRunner()
    registry, publisher = export_registry(runner, server, tmp_path)
    credential = write_credential(server, tmp_path)
    online = verify(runner, credential)
    assert online.exit_code == 0, online.output
    requests = len(server.requests)

    offline = verify(
        runner,
        "--offline",
        "--registry",
        registry,
        "--registry-publisher",
        publisher,
        credential,
    )

    assert offline.exit_code == 0, offline.output
    assert "revocation list fetched" in offline.output
    assert len(server.requests) == requests


def test_registry_needs_publisher(platform_env, server, tmp_path):
    runner = CliRunner()
    registry, _ = export_registry(runner, server, tmp_path)

    result = verify(runner, "--registry", registry, write_credential(server, tmp_path))

    assert result.exit_code == 2
    assert "--registry needs --registry-publisher" in result.output


def test_registry_from_other_publisher_rejected(platform_env, server, tmp_path):
    runner = CliRunner()
    registry, _ = export_registry(runner, server, tmp_path)

    result = verify(
        runner,
        "--registry",
        registry,
        "--registry-publisher",
        issuer_key(9).controller,
        write_credential(server, tmp_path),
    )

    assert result.exit_code == 2
    assert "not by the partnership" in result.output


def test_tampered_registry_rejected(platform_env, server, tmp_path):
    runner = CliRunner()
    registry, publisher = export_registry(runner, server, tmp_path)
    document = json.loads(open(registry).read())
    document["credentialSubject"]["member"][0]["fetchOrigin"] = ["https://evil.example"]
    with open(registry, "w") as handle:
        json.dump(document, handle)

    result = verify(
        runner,
        "--registry",
        registry,
        "--registry-publisher",
        publisher,
        write_credential(server, tmp_path),
    )

    assert result.exit_code == 2
    assert "failed verification" in result.output
    assert server.requests == []


def test_bad_fetch_setting_named(platform_env, server, tmp_path, monkeypatch):
    monkeypatch.setenv("PASSPORT_FETCH_TIMEOUT", "soon")

    result = verify(CliRunner(), write_credential(server, tmp_path))

    assert result.exit_code == 2
    assert "PASSPORT_FETCH_TIMEOUT='soon' is not a positive number" in result.output


def publish_platform_registry(settings, tmp_path) -> tuple[str, str, str, str]:
    """Create the platform's organisations, list them and export the registry.

    A did:web training credential (no status entries) is signed by the
    first organisation in the same database.

    :returns: the registry path, its publisher DID, the credential path and
        the issuing organisation's did:web.
    """
    from verifier.registry_service import add_platform_organisations

    engine = make_engine(settings.database_url)
    key_store = KeyStore(settings.key_passphrase)
    with Session(engine) as session:
        organisations = [
            create_organisation(
                session,
                key_store,
                slug=slug,
                name=name,
                org_type="acute trust",
                cstf_aligned=True,
                base_url=PLATFORM_URL,
                at=FOUNDED,
            )
            for slug, name in PLATFORM_ORGANISATIONS
        ]
        add_platform_organisations(
            session, origin=PLATFORM_URL, member_from=FOUNDED, editor="test"
        )
        session.commit()
        issuer = organisations[0]
        signer = signer_for(session, key_store, issuer, issuer.did)
        issuer_did = issuer.did
    engine.dispose()
    credential = training_credential(signer, HOLDER, "FS", date(2025, 6, 1))
    credential_path = tmp_path / "did-web-credential.json"
    credential_path.write_text(json.dumps(credential))
    registry_path = tmp_path / "platform-registry.json"
    exported = CliRunner().invoke(
        main, ["registry", "export", "--out", str(registry_path)]
    )
    assert exported.exit_code == 0, exported.output
    publisher = re.search(r"signed by (did:key:\w+)", exported.output)
    assert publisher is not None, exported.output
    return str(registry_path), publisher.group(1), str(credential_path), issuer_did


@pytest.fixture
def fresh_verifier(tmp_path, monkeypatch):
    """Switch the environment to a second, empty, migrated database."""

    def switch() -> None:
        data_dir = tmp_path / "elsewhere"
        data_dir.mkdir()
        url = f"sqlite:///{data_dir / 'passport.db'}"
        upgrade_database(url)
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("PASSPORT_DATA_DIR", str(data_dir))

    return switch


def offline_verify(registry, publisher, credential):
    return verify(
        CliRunner(),
        "--offline",
        "--registry",
        registry,
        "--registry-publisher",
        publisher,
        credential,
    )


def test_export_embeds_did_web_documents(platform_env, tmp_path):
    registry, _, _, issuer_did = publish_platform_registry(platform_env, tmp_path)

    members = json.loads(open(registry).read())["credentialSubject"]["member"]

    by_did = {member["id"]: member for member in members}
    assert by_did[issuer_did]["didDocument"]["id"] == issuer_did
    assert by_did[issuer_did]["didDocument"]["assertionMethod"]
    did_key_members = [did for did in by_did if did.startswith("did:key:")]
    assert did_key_members
    for did in did_key_members:
        assert "didDocument" not in by_did[did]


def test_did_web_verified_offline_elsewhere(platform_env, tmp_path, fresh_verifier):
    registry, publisher, credential, issuer_did = publish_platform_registry(
        platform_env, tmp_path
    )
    fresh_verifier()

    result = offline_verify(registry, publisher, credential)

    assert result.exit_code == 0, result.output
    assert "PASS  proof" in result.output
    assert "PASS  key-valid-at-issuance" in result.output
    assert "PASS  issuer-known: Issued by Chelmer Valley" in result.output
    assert json.loads(open(credential).read())["issuer"]["id"] == issuer_did


def test_altered_embedded_document_rejected(platform_env, tmp_path, fresh_verifier):
    registry, publisher, credential, issuer_did = publish_platform_registry(
        platform_env, tmp_path
    )
    document = json.loads(open(registry).read())
    member = next(
        entry
        for entry in document["credentialSubject"]["member"]
        if entry["id"] == issuer_did
    )
    member["didDocument"]["assertionMethod"].append(issuer_did + "#key-9")
    with open(registry, "w") as handle:
        json.dump(document, handle)
    fresh_verifier()

    result = offline_verify(registry, publisher, credential)

    assert result.exit_code == 2, result.output
    assert "failed verification" in result.output
    assert "proof" in result.output
