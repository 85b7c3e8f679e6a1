"""``passport init --demo`` on a fresh database, run twice."""

import json

from click.testing import CliRunner
from sqlalchemy import func
from sqlmodel import Session, col, select

from accounts.models import UserAccount
from issuer.models import IssuedCredential, Organisation
from passport.cli import main
from passport.db import make_engine
from programmes.models import ProgrammeCredential, ProgrammeEnrolment
from verifier.models import RegistryMember
from verifier.registry_service import latest_published_registry
from wallet_web.models import WalletCredential

# The example export's good rows (see examples/README.md).
EXAMPLE_GOOD_ROWS = 562
PARTNERSHIP_SIZE = 7
# The two demo staff members claim their credentials into wallets and
# accept all but one (the newest, left as an offer); superseded completions
# stay unsigned.


def count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_init_demo_twice(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PASSPORT_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()

    first = runner.invoke(main, ["init", "--demo"])
    assert first.exit_code == 0, first.output
    assert (
        f"{EXAMPLE_GOOD_ROWS} credentials recorded for staff who have no wallet yet"
        in first.output
    )
    assert "12 rows rejected" in first.output
    assert "password" in first.output
    assert "lead@essex-vale-council.example" in first.output

    second = runner.invoke(main, ["init", "--demo"])
    assert second.exit_code == 0, second.output
    assert "0 credentials recorded" in second.output
    assert f"{EXAMPLE_GOOD_ROWS} recorded before" in second.output

    engine = make_engine(database_url)
    with Session(engine) as session:
        assert count(session, Organisation) == PARTNERSHIP_SIZE
        training = session.exec(
            select(func.count())
            .select_from(IssuedCredential)
            .where(col(IssuedCredential.staff_record_id).is_not(None))
        ).one()
        assert training == EXAMPLE_GOOD_ROWS
        assert count(session, ProgrammeEnrolment) == 3
        assert count(session, ProgrammeCredential) == 1
        offered = session.exec(
            select(func.count())
            .select_from(IssuedCredential)
            .where(IssuedCredential.delivery == "offered")
        ).one()
        accepted = count(session, WalletCredential)
        emails = session.exec(select(UserAccount.email)).all()
        members = session.exec(select(RegistryMember)).all()
        published = latest_published_registry(session)
    engine.dispose()
    # Each organisation is a member under its did:web and its first did:key.
    assert len(members) == 2 * PARTNERSHIP_SIZE
    assert {member.origins for member in members} == {'["http://127.0.0.1:5000"]'}
    cstf = {member.slug for member in members if "cstf" in member.may_issue}
    assert cstf == {
        "chelmer-valley",
        "colne-estuary",
        "blackwater-community",
        "dengie-crouch",
    }
    assert published is not None
    published_members = json.loads(published)["credentialSubject"]["member"]
    web_members = [m for m in published_members if m["id"].startswith("did:web:")]
    assert len(web_members) == PARTNERSHIP_SIZE
    for member in web_members:
        assert member["didDocument"]["id"] == member["id"]
    assert "registry@staff-passport.example" in emails
    assert offered == 2
    assert accepted > 0
    assert len(emails) == len(set(emails))
    assert "hr@colne-estuary.example" in emails
