import os
import signal
import subprocess
import sys

from click.testing import CliRunner
from sqlmodel import Session

from accounts.models import UserAccount
from issuer.organisations import create_organisation
from keys.store import KeyStore
from passport.cli import main
from passport.db import make_engine
from workflows.service import take_scheduler_lock


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


def init_database(tmp_path, monkeypatch) -> tuple[CliRunner, str]:
    """Create the database in ``tmp_path`` and publish the bundled library."""
    database_url = f"sqlite:///{tmp_path / 'passport.db'}"
    monkeypatch.setenv("PASSPORT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    runner.invoke(main, ["init"])
    runner.invoke(main, ["workflows", "import"])
    return runner, database_url


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
    runner, _database_url = init_database(tmp_path, monkeypatch)

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
    runner, database_url = init_database(tmp_path, monkeypatch)
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


def test_start_names_missing_and_unknown_slots(tmp_path, monkeypatch):
    runner, _database_url = init_database(tmp_path, monkeypatch)
    start = ["workflows", "start", "falls-multifactorial", "--key", "EP-3"]
    start += ["--subject", "PT-7F3K2Q"]

    missing = runner.invoke(main, start + ["--org", "hospital=chelmer-valley"])
    misnamed = runner.invoke(main, start + ["--org", "hopsital=chelmer-valley"])

    assert missing.exit_code == 2
    assert "no organisation given for the slot(s) community" in missing.output
    assert "e.g. --org community=SLUG" in missing.output
    assert misnamed.exit_code == 2
    assert "hopsital is not an organisation slot" in misnamed.output
    assert "its slots are hospital, community" in misnamed.output


def test_member_add_rejects_unused_role(tmp_path, monkeypatch):
    runner, database_url = init_database(tmp_path, monkeypatch)
    engine = make_engine(database_url)
    with Session(engine) as session:
        session.add(
            UserAccount(
                id=7, email="rn@example.org", display_name="RN", password_hash="x"
            )
        )
        session.commit()
    add_organisations(engine, "chelmer-valley")
    engine.dispose()
    add = ["workflows", "member", "add", "--account", "7", "--org", "chelmer-valley"]

    typo = runner.invoke(main, add + ["--role", "registerd-nurse"])
    allowed = runner.invoke(
        main, add + ["--role", "registerd-nurse", "--allow-new-role"]
    )
    programme = runner.invoke(main, add + ["--role", "practice-supervisor"])
    help_text = runner.invoke(main, ["workflows", "member", "add", "--help"])

    assert typo.exit_code == 1
    assert "uses the role 'registerd-nurse'" in typo.output
    assert "healthcare-assistant" in typo.output
    assert "registered-nurse" in typo.output
    assert allowed.exit_code == 0, allowed.output
    assert programme.exit_code == 0, programme.output
    # Click wraps help text at spaces and after hyphens.
    help_words = " ".join(help_text.output.replace("-\n", "-").split())
    help_words = help_words.replace("- ", "-")
    assert "e.g. registered-nurse, healthcare-assistant" in help_words
    assert " rn," not in help_words


def _run_scheduler_until_started(tmp_path) -> tuple[str, str, int]:
    """Start ``passport scheduler``, stop it with SIGTERM after its start line,
    and return its output, error output and exit status."""
    environment = {
        **os.environ,
        "PASSPORT_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'passport.db'}",
    }
    command = [sys.executable, "-c", "from passport.cli import main; main()"]
    process = subprocess.Popen(
        command + ["scheduler"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first_line = process.stdout.readline()
    process.send_signal(signal.SIGTERM)
    rest, errors = process.communicate(timeout=120)
    return first_line + rest, errors, process.returncode


def test_scheduler_prints_start_and_stop(tmp_path, monkeypatch):
    init_database(tmp_path, monkeypatch)

    output, errors, status = _run_scheduler_until_started(tmp_path)

    assert status == 0, errors
    lines = output.splitlines()
    assert lines[0].startswith(
        f"passport scheduler: firing due workflow timers in the SQLite database "
        f"{tmp_path / 'passport.db'} every 2s; Ctrl+C or SIGTERM stops it."
    )
    assert "Run only one dispatcher per SQLite file" in lines[0]
    assert "cannot be detected" in lines[0]
    assert lines[-1].startswith("passport scheduler: stopped after")
    assert "warning" not in errors


def test_scheduler_warns_of_embedded_dispatcher(tmp_path, monkeypatch):
    """The web process's embedded dispatcher holds the data folder's lock."""
    init_database(tmp_path, monkeypatch)
    web_lock = take_scheduler_lock(tmp_path)
    assert web_lock is not None

    try:
        output, errors, status = _run_scheduler_until_started(tmp_path)
    finally:
        web_lock.close()

    assert status == 0, errors
    assert "warning: another process holds" in errors
    assert "PASSPORT_SCHEDULER=external" in errors
    assert "another one is running" in output
