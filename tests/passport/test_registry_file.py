"""``passport registry export`` and ``passport verify --registry FILE``.

The exported file is the signed registry a verifier elsewhere loads. With
it, verification finds the partnership's members without a database, and
``--offline`` uses only status lists fetched before.
"""

import json
import re
from datetime import date

import pytest
from click.testing import CliRunner

from passport.cli import main
from passport.db import upgrade_database
from tests.verifier.support import (
    issuer_key,
    running_server,
    status_list_credential,
    training_credential,
)

ISSUER = issuer_key(5)
HOLDER = issuer_key(2).controller
AT = "2026-01-01T00:00:00Z"


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
