"""The registry in the database: members, leaving, the signing key, the
published document, the command line, and the shared status list store."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner

from keys.store import KeyStore
from passport.cli import main
from passport.db import session_scope
from verifier import verify_credential
from verifier.errors import RegistryMemberInvalid
from verifier.fetch import FencedFetcher, FetchPolicy
from verifier.registry import CSTF_KIND
from verifier.registry_document import load_registry_credential
from verifier.registry_service import (
    MemberInput,
    end_membership,
    load_registry,
    publish_registry,
    save_member,
    signing_key,
)
from verifier.status import StatusListCache
from verifier.status_store import DatabaseStatusListStore

from .support import (
    issuer_key,
    running_server,
    status_list_credential,
    training_credential,
)

PASSPHRASE = "test passphrase, not a secret"
MEMBER = issuer_key(1)
NOW = datetime(2026, 3, 31, tzinfo=UTC)


def chelmer(**changes) -> MemberInput:
    fields = {
        "did": MEMBER.controller,
        "name": "Chelmer Valley Hospitals NHS Foundation Trust",
        "slug": "chelmer-valley",
        "cstf_aligned": True,
        "may_issue": ("TrainingCredential", CSTF_KIND),
        "member_from": datetime(2021, 4, 1, tzinfo=UTC),
        "origins": ("https://chelmer-valley.example",),
    }
    fields.update(changes)
    return MemberInput(**fields)


def test_member_saved_and_loaded(migrated_engine):
    with session_scope(migrated_engine) as session:
        save_member(session, chelmer(), editor="7")
    with session_scope(migrated_engine) as session:
        member = load_registry(session).lookup(MEMBER.controller)

    assert member is not None
    assert member.may_issue == {"TrainingCredential", CSTF_KIND}
    assert member.origins == ("https://chelmer-valley.example",)
    assert member.member_from == datetime(2021, 4, 1, tzinfo=UTC)


def test_member_leaves(migrated_engine):
    left = datetime(2025, 9, 1, tzinfo=UTC)
    with session_scope(migrated_engine) as session:
        save_member(session, chelmer(), editor="7")
    with session_scope(migrated_engine) as session:
        end_membership(session, MEMBER.controller, at=left, editor="7")
    with session_scope(migrated_engine) as session:
        registry = load_registry(session)
    before = training_credential(MEMBER, "did:key:z6Mkholder", "FS", date(2025, 8, 1))
    after = training_credential(MEMBER, "did:key:z6Mkholder", "FS", date(2025, 10, 1))

    assert (
        verify_credential(before, now=NOW, registry=registry)
        .check("issuer-allowed")
        .passed
    )
    assert (
        not verify_credential(after, now=NOW, registry=registry)
        .check("issuer-allowed")
        .passed
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"did": "chelmer"}, "not a did:key or did:web"),
        ({"cstf_aligned": False}, "only after declaring CSTF alignment"),
        ({"origins": ("https://a.example/status",)}, "not a bare origin"),
        ({"origins": ("ftp://a.example",)}, "not a bare origin"),
        ({"member_until": datetime(2020, 1, 1, tzinfo=UTC)}, "before it joins"),
        ({"name": " "}, "blank name"),
    ],
)
def test_invalid_member_rejected(migrated_engine, changes, message):
    with session_scope(migrated_engine) as session:
        with pytest.raises(RegistryMemberInvalid, match=message):
            save_member(session, chelmer(**changes), editor="7")


def test_signing_key_created_once(migrated_engine):
    store = KeyStore(PASSPHRASE)
    with session_scope(migrated_engine) as session:
        first = signing_key(session, store).did
    with session_scope(migrated_engine) as session:
        second = signing_key(session, KeyStore(PASSPHRASE)).did

    assert first == second


def test_published_registry_verifies(migrated_engine):
    store = KeyStore(PASSPHRASE)
    with session_scope(migrated_engine) as session:
        save_member(session, chelmer(), editor="7")
        document = publish_registry(session, store, now=NOW)

    registry = load_registry_credential(
        document, publisher_did=document["issuer"], now=NOW
    )

    assert registry.lookup(MEMBER.controller).name.startswith("Chelmer")


def test_registry_commands(settings, monkeypatch, tmp_path):
    from passport.db import upgrade_database

    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PASSPORT_KEY_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("PASSPORT_DATA_DIR", str(settings.data_dir))
    upgrade_database(settings.database_url)
    runner = CliRunner()

    added = runner.invoke(
        main,
        [
            "registry",
            "add",
            "--did",
            MEMBER.controller,
            "--name",
            "Chelmer",
            "--cstf-aligned",
            "--from",
            "2021-04-01",
            "--origin",
            "https://c.example",
        ],
    )
    left = runner.invoke(
        main, ["registry", "leave", "--did", MEMBER.controller, "--at", "2025-09-01"]
    )
    listed = runner.invoke(main, ["registry", "list"])
    published = runner.invoke(
        main, ["registry", "publish", "--out", str(tmp_path / "r.json")]
    )
    bad = runner.invoke(main, ["registry", "add", "--did", "x", "--name", "X"])

    assert added.exit_code == 0, added.output
    assert left.exit_code == 0, left.output
    assert "member 2021-04-01 to 2025-09-01" in listed.output
    assert "cstf" in listed.output
    assert published.exit_code == 0, published.output
    document = json.loads((tmp_path / "r.json").read_text())
    assert (
        document["credentialSubject"]["member"][0]["memberUntil"]
        == "2025-09-01T00:00:00Z"
    )
    assert bad.exit_code == 2
    assert "not a did:key or did:web" in bad.output


def test_database_store_shared_between_caches(migrated_engine):
    with running_server() as server:
        url = server.serve_json(
            "/status/1",
            status_list_credential(MEMBER, server.origin + "/status/1", "revocation"),
        )
        fetcher = FencedFetcher(FetchPolicy(allow_http=True))
        online = StatusListCache(
            fetcher, store=DatabaseStatusListStore(migrated_engine)
        )

        def verify_list(document):
            return []

        online.get(
            url,
            issuer=MEMBER.controller,
            purpose="revocation",
            allowed_origins=(server.origin,),
            now=NOW,
            verify_list=verify_list,
        )
    offline = StatusListCache(None, store=DatabaseStatusListStore(migrated_engine))

    cached = offline.get(
        url,
        issuer=MEMBER.controller,
        purpose="revocation",
        allowed_origins=(),
        now=NOW + timedelta(hours=3),
    )

    assert cached.age(NOW + timedelta(hours=3)) == timedelta(hours=3)
    assert cached.bitstring.entries == 131072
