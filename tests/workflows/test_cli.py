from click.testing import CliRunner
from sqlmodel import Session

from accounts.models import UserAccount
from issuer.organisations import create_organisation
from keys.store import KeyStore
from passport.cli import main
from passport.db import make_engine


def add_organisations(engine, *slugs: str) -> None:
    with Session(engine) as session:
        for slug in slugs:
            create_organisation(
                session,
                KeyStore("test passphrase, not a secret"),
                slug=slug,
                name=slug,
                org_type="acute trust",
                cstf_aligned=True,
                base_url="http://127.0.0.1:5000",
            )
        session.commit()


def test_start_scheduler_and_history(tmp_path, monkeypatch):
    database_url = f"sqlite:///{tmp_path / 'passport.db'}"
    monkeypatch.setenv("PASSPORT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    assert runner.invoke(main, ["workflows", "import"]).exit_code == 0
    engine = make_engine(database_url)
    with Session(engine) as session:
        session.add(
            UserAccount(
                id=7,
                email="rn@example.org",
                display_name="RN",
                password_hash="x",
            )
        )
        session.commit()
    add_organisations(engine, "chelmer-valley", "blackwater-community")
    engine.dispose()

    member = runner.invoke(
        main,
        [
            "workflows",
            "member",
            "add",
            "--account",
            "7",
            "--org",
            "chelmer-valley",
            "--role",
            "registered-nurse",
            "--team",
            "ward-7",
        ],
    )
    moved = runner.invoke(
        main,
        [
            "workflows",
            "member",
            "move",
            "--account",
            "7",
            "--org",
            "chelmer-valley",
            "--team",
            "ward-9",
        ],
    )
    arguments = [
        "workflows",
        "start",
        "pressure-ulcer-prevention",
        "--key",
        "EP-1001",
        "--subject",
        "PT-7F3K2Q",
        "--org",
        "hospital=chelmer-valley",
        "--org",
        "community=blackwater-community",
        "--team",
        "hospital=ward-9",
    ]
    started = runner.invoke(main, arguments)
    again = runner.invoke(main, arguments)
    fired = runner.invoke(main, ["scheduler", "--once"])

    assert member.exit_code == 0, member.output
    assert moved.exit_code == 0, moved.output
    assert started.exit_code == 0, started.output
    instance_id, state = started.output.split()[:2]
    assert state == "started"
    assert again.output.split()[0] == instance_id
    assert "already running" in again.output
    assert fired.exit_code == 0
    assert fired.output.startswith("fired 0 timers")
    history = runner.invoke(main, ["workflows", "history", instance_id])
    assert "instance.started" in history.output
    assert "task.requested" in history.output


def test_start_rejects_nhs_number_as_subject(tmp_path, monkeypatch):
    monkeypatch.setenv("PASSPORT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'passport.db'}")
    runner = CliRunner()
    runner.invoke(main, ["init"])
    runner.invoke(main, ["workflows", "import"])

    result = runner.invoke(
        main,
        [
            "workflows",
            "start",
            "falls-multifactorial",
            "--key",
            "EP-1",
            "--subject",
            "9434765919",
            "--org",
            "hospital=a",
            "--org",
            "community=b",
        ],
    )

    assert result.exit_code == 1
    assert "NHS number is never accepted" in result.output


def test_unknown_account_and_organisation_named(tmp_path, monkeypatch):
    database_url = f"sqlite:///{tmp_path / 'passport.db'}"
    monkeypatch.setenv("PASSPORT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    runner.invoke(main, ["init"])
    runner.invoke(main, ["workflows", "import"])
    engine = make_engine(database_url)
    add_organisations(engine, "chelmer-valley")
    engine.dispose()

    no_account = runner.invoke(
        main,
        ["workflows", "member", "add", "--account", "999", "--org", "chelmer-valley"]
        + ["--role", "registered-nurse"],
    )
    no_organisation = runner.invoke(
        main,
        ["workflows", "start", "falls-multifactorial", "--key", "EP-2"]
        + ["--subject", "PT-7F3K2Q", "--org", "hospital=chelmer-valley"]
        + ["--org", "community=mid-essex-community"],
    )

    assert no_account.exit_code == 2
    assert "no account has the id 999" in no_account.output
    assert no_organisation.exit_code == 2
    assert "no organisation has the slug 'mid-essex-community'" in (
        no_organisation.output
    )
