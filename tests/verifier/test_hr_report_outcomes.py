"""The passport report's harder outcomes through the whole sharing flow:
revoked and suspended by the issuer, an issuer outside the registry, a
level too low, a higher level satisfying a lower one, and an expired
credential shared on purpose."""

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from credentials.proofs import add_proof
from issuer.issuance import issue_credential
from issuer.organisations import get_organisation
from issuer.status_lists import change_status
from issuer.subjects import subject_by_code
from issuer.training import build_training_credential
from keys.multikey import Ed25519KeyPair
from keys.store import KeyStore
from passport.db import make_engine, session_scope
from tests.verifier.hr_flow import make_share_link, receive
from tests.web_support import sign_in
from wallet_web.models import Wallet, WalletCredential
from wallet_web.service import receive_credential

PROFILE = "registered-nurse-adult-ward"


def _unsigned(issuer_did: str, holder_did: str, code: str, days_ago: int) -> dict:
    return build_training_credential(
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        issuer_id=issuer_did,
        holder_id=holder_did,
        display_name="Chloé STUB",
        subject=subject_by_code(code),
        completed=(datetime.now(UTC) - timedelta(days=days_ago)).date(),
        cstf_aligned=True,
    )


@pytest.fixture
def varied_wallet(seeded):
    """Add to the staff wallet: IPC2 revoked and HSW suspended by their
    issuer, MH2 from an issuer outside the registry, SA1 (below the SA2
    required), RES3A (above the RES2A required)."""
    engine = make_engine(seeded.settings.database_url)
    key_store = KeyStore(seeded.settings.key_passphrase)
    try:
        with session_scope(engine) as session:
            wallet = session.exec(
                select(Wallet).where(Wallet.display_name == "Chloé STUB")
            ).one()
            chelmer = get_organisation(session, "chelmer-valley")
            signed = {}
            for code in ("IPC2", "HSW", "SA1", "RES3A"):
                signed[code] = issue_credential(
                    session,
                    key_store,
                    chelmer,
                    _unsigned(chelmer.did, wallet.holder_did, code, 40),
                    actor="test",
                )
            for code, action in (("IPC2", "revoke"), ("HSW", "suspend")):
                change_status(
                    session,
                    key_store,
                    chelmer,
                    signed[code]["id"],
                    action,
                    reason="Recorded against the wrong person.",
                    actor="test",
                )
            stranger = Ed25519KeyPair.generate()
            signed["MH2"] = add_proof(
                _unsigned(stranger.did, wallet.holder_did, "MH2", 40),
                signer=stranger,
                cryptosuite="eddsa-rdfc-2022",
                created=datetime.now(UTC) - timedelta(days=1),
            )
            for document in signed.values():
                receive_credential(session, wallet.id, json.dumps(document))
            session.flush()
            public_ids = session.exec(
                select(WalletCredential.public_id).where(
                    WalletCredential.wallet_id == wallet.id
                )
            ).all()
    finally:
        engine.dispose()
    # Every credential, the expired one included.
    return list(public_ids)


def test_report_outcomes_with_reasons(app, seeded, varied_wallet):
    url = make_share_link(app.test_client(), seeded.staff_email, varied_wallet)
    hr = app.test_client()
    sign_in(hr, seeded.hr_email)
    response = receive(hr, url)
    assert response.status_code == 302, response.get_data(as_text=True)

    page = hr.get(f"{response.headers['Location']}?profile={PROFILE}").get_data(
        as_text=True
    )

    rows = {
        code: (outcome, reason)
        for code, outcome, reason in re.findall(
            r'data-subject="([A-Z0-9]+)" data-outcome="([a-z0-9-]+)">.*?'
            r'<td class="outcome">[^<]*</td>\s*<td>([^<]*)</td>',
            page,
            re.S,
        )
    }
    assert rows["CR"][0] == "accepted"
    assert rows["FS"][0] == "expiring-30"
    assert rows["IGDS"][0] == "expired"
    assert rows["IPC2"][0] == "revoked"
    assert rows["HSW"][0] == "suspended"
    assert rows["MH2"][0] == "not-accepted"
    assert "is not a member of the partnership" in rows["MH2"][1]
    assert rows["SA2"][0] == "not-accepted"
    assert "does not satisfy" in rows["SA2"][1]
    assert rows["RES2A"][0] == "accepted"
    assert "which satisfies it" in rows["RES2A"][1]
    assert rows["SC2"][0] == "missing"
    # Failed credentials do not make the presentation itself fail.
    assert "Presentation verified" in page
    assert "3 credentials in it failed a check of their own" in page
