"""A small seeded platform for tests of the web pages and APIs.

Seeding signs a handful of credentials instead of the whole demo import,
so each test gets its own fresh database quickly. Dates are relative to
today, because the wallet's badges compare them with the real clock.
"""

import json
import re
import shutil
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from accounts.roles import Role
from accounts.service import create_account, grant_role
from credentials.proofs import add_proof
from issuer.service import create_organisation
from issuer.subjects import add_months, subject_by_code
from issuer.training import build_training_credential
from keys.store import KeyStore
from passport.app import create_app
from passport.db import make_engine, session_scope, upgrade_database
from passport.settings import Settings
from tests.conftest import TEST_PASSPHRASE
from verifier.registry_admin import PARTNERSHIP_ADMIN
from verifier.registry_service import add_platform_organisations
from wallet_web.holders import create_wallet
from wallet_web.service import receive_credential

PASSWORD = "correct horse battery staple"
ISSUER_NAME = "Chelmer Valley Hospitals NHS Foundation Trust"


@dataclass
class SeededPlatform:
    """What :func:`seed_platform` created, by the names tests use."""

    settings: Settings
    staff_email: str = "chloe.stub@nhs-staff.example"
    other_staff_email: str = "taylor.fixture@nhs-staff.example"
    hr_email: str = "hr@colne-estuary.example"
    admin_email: str = "admin@chelmer-valley.example"
    registry_email: str = "registry@staff-passport.example"
    issuer_did: str = ""
    # Public ids of the staff member's credentials by badge status.
    staff_credentials: dict[str, str] = field(default_factory=dict)
    other_staff_credential: str = ""
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)


def _sign(
    session: Any,
    key_store: KeyStore,
    organisation: Any,
    holder_did: str,
    name: str,
    code: str,
    completed: date,
) -> dict[str, Any]:
    unsigned = build_training_credential(
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        issuer_id=organisation.did,
        holder_id=holder_did,
        display_name=name,
        subject=subject_by_code(code),
        completed=completed,
        cstf_aligned=True,
    )
    signer = key_store.load(session, organisation.verification_method_id)
    return add_proof(
        unsigned,
        signer=signer,
        cryptosuite="eddsa-rdfc-2022",
        created=datetime.now(UTC),
    )


def seed_platform(settings: Settings) -> SeededPlatform:
    """Migrate the database and create one issuer, two wallets and four accounts.

    The first staff member has three credentials: valid, expiring within
    60 days and expired. The second has one valid credential.
    """
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    key_store = KeyStore(settings.key_passphrase)
    seeded = SeededPlatform(settings=settings)
    today = datetime.now(UTC).date()
    fire_safety_months = subject_by_code("FS").refresher_months
    completions = {
        "valid": ("CR", today - timedelta(days=30)),
        # Fire Safety lasts 24 months: this one ends in about 20 days.
        "expiring": ("FS", add_months(today, -fire_safety_months) + timedelta(days=20)),
        "expired": ("IGDS", today - timedelta(days=400)),
    }
    with session_scope(engine) as session:
        chelmer = create_organisation(
            session,
            key_store,
            slug="chelmer-valley",
            name=ISSUER_NAME,
            org_type="acute trust",
            cstf_aligned=True,
            base_url=settings.public_url,
        )
        create_organisation(
            session,
            key_store,
            slug="colne-estuary",
            name="Colne Estuary University Hospitals NHS Trust",
            org_type="acute teaching trust",
            cstf_aligned=True,
            base_url=settings.public_url,
        )
        seeded.issuer_did = chelmer.did
        wallet = create_wallet(session, key_store, "Chloé STUB")
        other_wallet = create_wallet(session, key_store, "Taylor FIXTURE")
        for status, (code, completed) in completions.items():
            signed = _sign(
                session,
                key_store,
                chelmer,
                wallet.holder_did,
                "Chloé STUB",
                code,
                completed,
            )
            row = receive_credential(session, wallet.id, json.dumps(signed))
            session.flush()
            seeded.staff_credentials[status] = row.public_id
            seeded.documents[status] = signed
        other = _sign(
            session,
            key_store,
            chelmer,
            other_wallet.holder_did,
            "Taylor FIXTURE",
            "CR",
            today - timedelta(days=10),
        )
        row = receive_credential(session, other_wallet.id, json.dumps(other))
        session.flush()
        seeded.other_staff_credential = row.public_id
        seeded.documents["other"] = other
        add_platform_organisations(
            session, origin=settings.public_url, member_from=None, editor="system"
        )

        accounts = (
            (seeded.staff_email, "Chloé STUB", Role.STAFF, None, wallet.id),
            (
                seeded.other_staff_email,
                "Taylor FIXTURE",
                Role.STAFF,
                None,
                other_wallet.id,
            ),
            (seeded.hr_email, "Sam SAMPLE", Role.HR, "colne-estuary", None),
            (
                seeded.admin_email,
                "Alex DUMMY",
                Role.ISSUER_ADMIN,
                "chelmer-valley",
                None,
            ),
            (seeded.registry_email, "Jo PLACEHOLDER", PARTNERSHIP_ADMIN, None, None),
        )
        for email, name, role, organisation, wallet_id in accounts:
            account = create_account(
                session,
                email=email,
                display_name=name,
                password=PASSWORD,
                wallet_id=wallet_id,
            )
            grant_role(session, account.id, role, organisation)
    engine.dispose()
    return seeded


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> SeededPlatform:
    """One seeded SQLite file per test run, copied for each test."""
    folder = tmp_path_factory.mktemp("seeded-template")
    settings = Settings.from_env(
        {
            "PASSPORT_DATA_DIR": str(folder / "data"),
            "DATABASE_URL": f"sqlite:///{folder / 'passport.db'}",
            "PASSPORT_KEY_PASSPHRASE": TEST_PASSPHRASE,
            "PASSPORT_SECRET_KEY": "test secret key",
            "PASSPORT_PUBLIC_URL": "http://127.0.0.1:5000",
        }
    )
    return seed_platform(settings)


@pytest.fixture
def seeded(seeded_template: SeededPlatform, settings: Settings) -> SeededPlatform:
    """A fresh copy of the seeded platform in this test's own SQLite file.

    Seeding once and copying the file keeps the Argon2 and scrypt work of
    seeding out of every test.
    """
    source = make_url(seeded_template.settings.database_url).database
    target = make_url(settings.database_url).database
    assert source is not None and target is not None
    shutil.copyfile(source, target)
    return replace(seeded_template, settings=settings)


@pytest.fixture
def app(seeded: SeededPlatform) -> Flask:
    """The web platform on the seeded database, with CSRF protection on."""
    return create_app({"SETTINGS": seeded.settings, "TESTING": True})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser-like client of :func:`app` with its own cookies."""
    return app.test_client()


_CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str) -> str:
    """Return the CSRF token of the form on the page at ``path``."""
    response = client.get(path)
    match = _CSRF_FIELD.search(response.get_data(as_text=True))
    assert match is not None, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    """Sign in through the form, as a browser would; return the response."""
    token = csrf_token(client, "/sign-in")
    return client.post(
        "/sign-in",
        data={"csrf_token": token, "email": email, "password": password},
    )


def read_qr_codes(image: Any) -> list[Any]:
    """Return the distinct QR codes zxing-cpp reads in a PIL image.

    Only the QR format is searched, as the HR upload does, because a
    default search once also reported a second symbol in a credential's
    QR code. A text reported twice counts once.
    """
    import zxingcpp

    found = zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    distinct: dict[str, Any] = {}
    for result in found:
        distinct.setdefault(result.text, result)
    return list(distinct.values())
