"""The partnership administrator's registry pages and the public registry."""

import re
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from audit.models import AuditEntry
from passport.db import make_engine
from tests.web_support import csrf_token, sign_in
from verifier.models import RegistryMember
from verifier.registry_document import load_registry_credential

OUTSIDE_DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


@pytest.fixture
def admin(client, seeded):
    sign_in(client, seeded.registry_email)
    return client


def member_row(seeded, did):
    engine = make_engine(seeded.settings.database_url)
    try:
        with Session(engine) as session:
            return session.exec(
                select(RegistryMember).where(RegistryMember.did == did)
            ).first()
    finally:
        engine.dispose()


def add(client, **fields):
    data = {
        "csrf_token": csrf_token(client, "/registry/members/new"),
        "did": OUTSIDE_DID,
        "name": "Stour Valley NHS Trust",
        "slug": "stour-valley",
        "may_issue": "TrainingCredential",
        "member_from": "2024-01-01",
        "origins": "https://stour-valley.example",
    }
    data.update(fields)
    return client.post("/registry/members/new", data=data)


def test_members_listed(admin, seeded):
    response = admin.get("/registry/")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'data-did="{seeded.issuer_did}"' in page
    assert "Chelmer Valley Hospitals NHS Foundation Trust" in page
    assert "Not published yet" in page


@pytest.mark.parametrize("email_field", ["staff_email", "hr_email", "admin_email"])
def test_other_roles_forbidden(client, seeded, email_field):
    sign_in(client, getattr(seeded, email_field))

    assert client.get("/registry/").status_code == 403
    assert client.get("/registry/members/new").status_code == 403


def test_anonymous_sent_to_sign_in(client):
    response = client.get("/registry/")

    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_member_added(admin, seeded):
    response = add(admin)

    assert response.status_code == 302
    row = member_row(seeded, OUTSIDE_DID)
    assert row is not None
    assert row.name == "Stour Valley NHS Trust"
    assert row.origins == '["https://stour-valley.example"]'
    assert row.member_from == datetime(2024, 1, 1, tzinfo=UTC)


def test_post_without_csrf_rejected(admin, seeded):
    response = admin.post(
        "/registry/members/new", data={"did": OUTSIDE_DID, "name": "No Token"}
    )

    assert response.status_code == 400
    assert member_row(seeded, OUTSIDE_DID) is None


def test_cstf_without_alignment_rejected(admin, seeded):
    response = add(admin, may_issue="TrainingCredential, cstf")

    assert response.status_code == 400
    assert "declaring CSTF alignment" in response.get_data(as_text=True)
    assert member_row(seeded, OUTSIDE_DID) is None


def test_bad_origin_rejected(admin, seeded):
    response = add(admin, origins="https://stour-valley.example/status")

    assert response.status_code == 400
    assert "is not a bare origin" in response.get_data(as_text=True)


def test_member_edited_did_fixed(admin, seeded):
    add(admin)
    member_id = member_row(seeded, OUTSIDE_DID).id
    path = f"/registry/members/{member_id}/edit"

    response = admin.post(
        path,
        data={
            "csrf_token": csrf_token(admin, path),
            "did": "did:key:z6MkOTHER",
            "name": "Stour Valley University Hospitals",
            "cstf_aligned": "y",
            "may_issue": "TrainingCredential, cstf",
            "origins": "https://stour-valley.example",
        },
    )

    assert response.status_code == 302
    row = member_row(seeded, OUTSIDE_DID)
    assert row.name == "Stour Valley University Hospitals"
    assert row.cstf_aligned is True
    assert row.may_issue == '["TrainingCredential", "cstf"]'
    assert member_row(seeded, "did:key:z6MkOTHER") is None


def test_edit_unknown_member_404(admin):
    assert admin.get("/registry/members/9999/edit").status_code == 404


def test_membership_ended(admin, seeded):
    add(admin)
    member_id = member_row(seeded, OUTSIDE_DID).id

    response = admin.post(
        f"/registry/members/{member_id}/leave",
        data={"csrf_token": csrf_token(admin, "/registry/"), "left_on": "2026-01-01"},
        follow_redirects=True,
    )

    assert "leaves on 2026-01-01" in response.get_data(as_text=True)
    assert member_row(seeded, OUTSIDE_DID).member_until == datetime(
        2026, 1, 1, tzinfo=UTC
    )


def test_leaving_before_joining_rejected(admin, seeded):
    add(admin)
    member_id = member_row(seeded, OUTSIDE_DID).id

    response = admin.post(
        f"/registry/members/{member_id}/leave",
        data={"csrf_token": csrf_token(admin, "/registry/"), "left_on": "2023-01-01"},
        follow_redirects=True,
    )

    assert "cannot leave" in response.get_data(as_text=True)
    assert member_row(seeded, OUTSIDE_DID).member_until is None


def test_published_registry_served_and_verifies(admin, client, seeded):
    assert client.get("/trust-registry.json").status_code == 404
    add(admin)

    published = admin.post(
        "/registry/publish",
        data={"csrf_token": csrf_token(admin, "/registry/")},
        follow_redirects=True,
    )
    page = published.get_data(as_text=True)
    publisher = re.search(r"signed by (did:key:\w+)", page).group(1)
    response = admin.get("/trust-registry.json")

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    registry = load_registry_credential(
        response.get_data(as_text=True),
        publisher_did=publisher,
        now=datetime.now(UTC),
    )
    assert registry.lookup(OUTSIDE_DID) is not None
    assert registry.lookup(seeded.issuer_did) is not None


def test_changes_recorded_in_audit_log(admin, seeded):
    add(admin)

    engine = make_engine(seeded.settings.database_url)
    with Session(engine) as session:
        actions = session.exec(
            select(AuditEntry.action).where(AuditEntry.target == OUTSIDE_DID)
        ).all()
    engine.dispose()
    assert actions == ["registry.member_saved"]


def test_registry_link_in_navigation(admin):
    page = admin.get("/registry/").get_data(as_text=True)

    assert 'href="/registry/"' in page
