import json

import pytest
from click.testing import CliRunner
from sqlmodel import Session

from audit.log import recent_entries
from issuer.organisations import get_organisation
from keys.store import KeyStore
from passport.cli import main
from tests.conftest import TEST_PASSPHRASE
from tests.issuer.conftest import BASE_URL
from tests.issuer.helpers import issued_with_status

DID = "did:web:passport.example.org:orgs:chelmer-valley"


@pytest.fixture
def run(seeded_database_url, tmp_path):
    env = {
        "DATABASE_URL": seeded_database_url,
        "PASSPORT_DATA_DIR": str(tmp_path / "data"),
        "PASSPORT_KEY_PASSPHRASE": TEST_PASSPHRASE,
        "PASSPORT_SECRET_KEY": "test",
        "PASSPORT_PUBLIC_URL": BASE_URL,
    }

    def invoke(*args: str):
        return CliRunner().invoke(main, list(args), env=env)

    return invoke


def test_orgs_list_json(run):
    result = run("orgs", "list", "--json")

    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [row["slug"] for row in rows] == ["chelmer-valley", "colne-estuary"]
    assert rows[0]["name"] == "Chelmer Valley Hospitals NHS Foundation Trust"
    assert rows[0]["dids"][0] == DID
    assert rows[0]["dids"][1].startswith("did:key:z6Mk")


def test_orgs_list_text(run):
    result = run("orgs", "list")

    assert result.exit_code == 0
    assert f"  {DID}" in result.output


def test_keys_rotate_then_list(run):
    rotated = run("keys", "rotate", "--org", "chelmer-valley")
    listed = run("keys", "list", "--org", "chelmer-valley")

    assert rotated.exit_code == 0, rotated.output
    assert f"{DID}#key-2 signs from now on" in rotated.output
    assert f"{DID}#key-1: active from" in listed.output
    assert "retired" in listed.output


def test_keys_rotate_unknown_org(run):
    result = run("keys", "rotate", "--org", "nowhere")

    assert result.exit_code == 2
    assert "No organisation has slug 'nowhere'" in result.output
    assert "Traceback" not in result.output


def test_keys_compromise_lists_affected(run):
    result = run(
        "keys",
        "compromise",
        "--org",
        "chelmer-valley",
        "--key",
        f"{DID}#key-1",
        "--since",
        "2026-02-01T00:00:00Z",
        "--reason",
        "backup tape lost",
    )

    assert result.exit_code == 0, result.output
    assert f"Rotated in {DID}#key-2." in result.output
    assert "0 credentials to reissue" in result.output


def test_keys_compromise_rejects_naive_instant(run):
    result = run(
        "keys",
        "compromise",
        "--org",
        "chelmer-valley",
        "--key",
        f"{DID}#key-1",
        "--since",
        "2026-02-01 10:00",
        "--reason",
        "x",
    )

    assert result.exit_code == 2
    assert "with a time zone" in result.output


def test_credentials_revoke_and_audit(run, seeded_engine):
    with Session(seeded_engine) as session:
        organisation = get_organisation(session, "chelmer-valley")
        issued_with_status(
            session, KeyStore(TEST_PASSPHRASE), organisation, "urn:uuid:c-9"
        )

    result = run(
        "credentials",
        "revoke",
        "--org",
        "chelmer-valley",
        "--reason",
        "left under a cloud",
        "urn:uuid:c-9",
    )
    again = run(
        "credentials",
        "suspend",
        "--org",
        "chelmer-valley",
        "--reason",
        "x",
        "urn:uuid:c-9",
    )

    assert result.exit_code == 0, result.output
    assert "revoke applied" in result.output
    assert again.exit_code == 1
    assert "revocation is permanent" in again.output
    with Session(seeded_engine) as session:
        entry = recent_entries(session, action="credential.revoked")[0]
    assert entry.target == "urn:uuid:c-9"
    assert entry.actor.startswith("cli:")


def test_credentials_revoke_unknown_id(run):
    result = run(
        "credentials",
        "revoke",
        "--org",
        "chelmer-valley",
        "--reason",
        "x",
        "urn:uuid:none",
    )

    assert result.exit_code == 1
    assert "has issued no credential with id 'urn:uuid:none'" in result.output
