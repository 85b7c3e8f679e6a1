"""Receiving shared passports below the pages, on SQLite and PostgreSQL:
one-time links and challenges, domains, holder binding, proofs, the stored
result, and links fetched from another wallet through the fence."""

import copy
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from werkzeug.serving import make_server

from keys.did_key import resolve_did_key
from keys.store import KeyStore
from passport.app import create_app
from passport.db import session_scope
from passport.settings import Settings
from tests.conftest import TEST_PASSPHRASE
from tests.verifier.support import issuer_key, training_credential
from verifier import IssuerRegistry, TrustedIssuer
from verifier.fetch import FencedFetcher, FetchPolicy
from verifier.passport_check import ShareLinkInvalid, VerifierContext
from verifier.registry import CSTF_KIND
from verifier.report import NOT_ACCEPTED, build_report
from verifier.requirements import Profile
from verifier.share_intake import (
    Receipt,
    presentation_problems,
    receive_passport,
    registry_origins,
    stored_result,
)
from wallet_web.holders import create_wallet
from wallet_web.models import Wallet
from wallet_web.service import receive_credential
from wallet_web.sharing import (
    SharingError,
    create_share,
    present_share,
    sign_presentation,
)

NOW = datetime.now(UTC).replace(microsecond=0)
PUBLIC_URL = "https://passport.partnership.example"
DOMAIN = PUBLIC_URL
ISSUER = issuer_key(3)
RECEIPT = Receipt("colne-estuary", "hr@colne-estuary.example")
PROFILE = Profile("test", "Test role", "", ("FS", "CR", "MH2"))


@pytest.fixture
def store() -> KeyStore:
    return KeyStore(TEST_PASSPHRASE)


def _fill_wallet(engine: Engine, store: KeyStore, name: str) -> Wallet:
    with session_scope(engine) as session:
        wallet = create_wallet(session, store, name)
        for index, (code, days_ago) in enumerate((("FS", 30), ("CR", 400))):
            credential = training_credential(
                ISSUER,
                wallet.holder_did,
                code,
                (NOW - timedelta(days=days_ago)).date(),
                index=index + (0 if name == "first" else 10),
            )
            receive_credential(session, wallet.id, json.dumps(credential))
        session.flush()
        session.expunge(wallet)
    return wallet


@pytest.fixture
def wallets(migrated_engine, store):
    return (
        _fill_wallet(migrated_engine, store, "first"),
        _fill_wallet(migrated_engine, store, "second"),
    )


def _registry(origins: tuple[str, ...] = ()) -> IssuerRegistry:
    return IssuerRegistry(
        [
            TrustedIssuer(
                ISSUER.controller,
                "Chelmer Valley",
                cstf_aligned=True,
                may_issue=frozenset({"TrainingCredential", CSTF_KIND}),
                origins=origins,
            )
        ]
    )


def _context(
    origins: tuple[str, ...] = (), fetcher: FencedFetcher | None = None
) -> VerifierContext:
    return VerifierContext(
        domain=DOMAIN,
        registry=_registry(origins),
        resolve_did=resolve_did_key,
        status_lists=None,
        fetcher=fetcher or FencedFetcher(),
        wallet_origins=origins,
        verifier_name="Colne Estuary",
    )


def _share(engine: Engine, wallet: Wallet) -> str:
    with session_scope(engine) as session:
        new = create_share(session, wallet.id, None, now=NOW)
        return new.url(PUBLIC_URL)


def _honest_wallet(engine: Engine, store: KeyStore):
    def answer(token: str, challenge: str, domain: str, name: str) -> dict[str, Any]:
        try:
            with session_scope(engine) as session:
                return present_share(
                    session,
                    store,
                    token,
                    challenge=challenge,
                    domain=domain,
                    verifier_name=name,
                    now=NOW,
                )
        except SharingError as error:
            raise ShareLinkInvalid(str(error)) from None

    return answer


def _dishonest_wallet(engine, store, wallet, tamper):
    """A wallet that signs what ``tamper`` makes of the honest answer's parts."""

    def answer(token: str, challenge: str, domain: str, name: str) -> dict[str, Any]:
        with session_scope(engine) as session:
            holder = session.get(Wallet, wallet.id)
            return tamper(session, holder, challenge, domain)

    return answer


def _receive(engine, url, local_wallet, context=None):
    with session_scope(engine) as session:
        row = receive_passport(
            session,
            url,
            context=context or _context(),
            public_url=PUBLIC_URL,
            local_wallet=local_wallet,
            receipt=RECEIPT,
            now=NOW,
        )
        session.flush()
        session.expunge(row)
    return row


def _wallet_credentials(engine, wallet) -> list[dict[str, Any]]:
    from sqlmodel import select

    from wallet_web.models import WalletCredential

    with session_scope(engine) as session:
        rows = session.exec(
            select(WalletCredential).where(WalletCredential.wallet_id == wallet.id)
        ).all()
        return [json.loads(row.document) for row in rows]


def test_passport_received_and_stored(migrated_engine, store, wallets):
    first, _ = wallets
    url = _share(migrated_engine, first)

    row = _receive(migrated_engine, url, _honest_wallet(migrated_engine, store))

    assert row.verified
    assert row.holder_did == first.holder_did
    assert row.organisation_slug == "colne-estuary"
    result = stored_result(row)
    assert result.verified
    assert result.check("challenge-issued").passed
    assert len(result.credentials) == 2
    assert result.credentials[0].document["credentialSubject"]["subjectCode"] == "FS"
    report = build_report(PROFILE, result.credentials, now=row.received_at)
    outcomes = {item.subject_code: item.outcome for item in report.rows}
    assert outcomes == {"FS": "accepted", "CR": "accepted", "MH2": "missing"}


def test_second_use_of_link_fails(migrated_engine, store, wallets):
    first, _ = wallets
    url = _share(migrated_engine, first)
    wallet = _honest_wallet(migrated_engine, store)
    _receive(migrated_engine, url, wallet)

    with pytest.raises(ShareLinkInvalid, match="already used"):
        _receive(migrated_engine, url, wallet)


def test_wrong_domain_fails(migrated_engine, store, wallets):
    first, _ = wallets

    def other_domain(session, holder, challenge, domain):
        credentials = _wallet_credentials(migrated_engine, first)
        return sign_presentation(
            session,
            store,
            holder,
            credentials,
            challenge=challenge,
            domain="https://other-verifier.example",
        )

    row = _receive(
        migrated_engine,
        _share(migrated_engine, first),
        _dishonest_wallet(migrated_engine, store, first, other_domain),
    )

    result = stored_result(row)
    assert not row.verified
    assert not result.check("domain").passed
    assert "https://other-verifier.example" in result.check("domain").message


def test_replayed_presentation_fails(migrated_engine, store, wallets):
    first, _ = wallets
    earlier = _receive(
        migrated_engine,
        _share(migrated_engine, first),
        _honest_wallet(migrated_engine, store),
    )
    replay = json.loads(earlier.presentation)

    row = _receive(
        migrated_engine,
        _share(migrated_engine, first),
        _dishonest_wallet(
            migrated_engine, store, first, lambda *parts: copy.deepcopy(replay)
        ),
    )

    result = stored_result(row)
    assert not row.verified
    assert not result.check("challenge").passed
    report = build_report(
        PROFILE,
        result.credentials,
        now=NOW,
        presentation_problems=presentation_problems(result),
    )
    assert {item.outcome for item in report.rows} == {NOT_ACCEPTED, "missing"}
    assert "nothing in it is accepted" in report.notes[0]


def test_subject_not_presenter_fails(migrated_engine, store, wallets):
    first, second = wallets
    others = _wallet_credentials(migrated_engine, second)

    def present_others(session, holder, challenge, domain):
        return sign_presentation(
            session, store, holder, others, challenge=challenge, domain=domain
        )

    row = _receive(
        migrated_engine,
        _share(migrated_engine, first),
        _dishonest_wallet(migrated_engine, store, first, present_others),
    )

    result = stored_result(row)
    assert not row.verified
    assert result.check("proof").passed
    assert not result.check("holder-binding").passed
    assert "other than the holder" in result.check("holder-binding").message


@pytest.mark.parametrize("proofs", ["missing", "extra"])
def test_missing_or_extra_proof_fails(migrated_engine, store, wallets, proofs):
    first, _ = wallets
    credentials = _wallet_credentials(migrated_engine, first)

    def bad_proofs(session, holder, challenge, domain):
        signed = sign_presentation(
            session, store, holder, credentials, challenge=challenge, domain=domain
        )
        if proofs == "missing":
            del signed["proof"]
        else:
            signed["proof"] = [signed["proof"], dict(signed["proof"])]
        return signed

    row = _receive(
        migrated_engine,
        _share(migrated_engine, first),
        _dishonest_wallet(migrated_engine, store, first, bad_proofs),
    )

    result = stored_result(row)
    assert not row.verified
    assert not result.check("proof").passed


def test_unlisted_origin_not_requested(migrated_engine, store, wallets):
    requests: list[str] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            requests.append(self.path)
            self.send_response(500)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/s/AAAAAAAAAAAAAAAAAAAAAA"
        fetcher = FencedFetcher(FetchPolicy(allow_http=True))
        with pytest.raises(ShareLinkInvalid, match="trust registry lists"):
            _receive(
                migrated_engine,
                url,
                _honest_wallet(migrated_engine, store),
                _context(("https://wallet.listed.example",), fetcher),
            )
    finally:
        server.shutdown()
        server.server_close()
    assert requests == []


@pytest.fixture
def remote_wallet(database_url, migrated_engine, tmp_path) -> Iterator[str]:
    """Another platform's wallet, served over HTTP on 127.0.0.1 on the same
    database, so its share links are on another origin than PUBLIC_URL."""
    probe = make_server("127.0.0.1", 0, lambda environ, start: [])
    port = probe.server_port
    probe.server_close()
    origin = f"http://127.0.0.1:{port}"
    settings = Settings.from_env(
        {
            "PASSPORT_DATA_DIR": str(tmp_path / "remote"),
            "DATABASE_URL": database_url,
            "PASSPORT_KEY_PASSPHRASE": TEST_PASSPHRASE,
            "PASSPORT_SECRET_KEY": "remote wallet secret",
            "PASSPORT_PUBLIC_URL": origin,
        }
    )
    app = create_app({"SETTINGS": settings, "TESTING": True})
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield origin
    finally:
        server.shutdown()
        app.extensions["platform"].dispose()


def test_remote_wallet_fetched_through_fence(
    migrated_engine, store, wallets, remote_wallet
):
    first, _ = wallets
    with session_scope(migrated_engine) as session:
        # The remote platform checks the link against the real clock.
        url = create_share(session, first.id, None, now=datetime.now(UTC)).url(
            remote_wallet
        )
    fetcher = FencedFetcher(FetchPolicy(allow_http=True))

    def never_local(*parts: str) -> dict[str, Any]:
        raise AssertionError("a remote link was answered in process")

    context = _context((remote_wallet,), fetcher)
    row = _receive(migrated_engine, url, never_local, context)
    with pytest.raises(ShareLinkInvalid, match="already used"):
        _receive(migrated_engine, url, never_local, context)
    fetcher.close()

    result = stored_result(row)
    assert row.verified, result.to_json()
    assert result.check("challenge-issued").passed
    with session_scope(migrated_engine) as session:
        from sqlmodel import select

        from wallet_web.sharing_models import ShareLink

        link = session.exec(
            select(ShareLink).where(ShareLink.wallet_id == first.id)
        ).first()
        assert link.verifier_name == "Colne Estuary"
        assert link.verifier_domain == DOMAIN


def test_registry_origins_deduplicated():
    registry = IssuerRegistry(
        [
            TrustedIssuer("did:key:a", "A", origins=("https://A.example:443",)),
            TrustedIssuer("did:key:b", "B", origins=("https://a.example",)),
        ]
    )
    assert registry_origins([registry, IssuerRegistry()]) == ("https://a.example",)
