"""The ``passport`` command line, run in process through click's runner."""

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from passport.cli import main

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "peer"
SEED = "11" * 32
INSIDE_VALIDITY = "2026-01-01T00:00:00Z"


@pytest.fixture
def runner(tmp_path, monkeypatch):
    # Point the database at an empty folder, so the issuer registry the
    # verifier reads is empty and no file outside tmp_path is touched.
    monkeypatch.setenv("PASSPORT_DATA_DIR", str(tmp_path / "data"))
    return CliRunner()


def test_keys_generate_from_seed(runner, tmp_path):
    out = tmp_path / "key.json"
    result = runner.invoke(
        main, ["keys", "generate", "--seed", SEED, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert document["type"] == "Multikey"
    assert document["publicKeyMultibase"].startswith("z6Mk")
    assert document["secretKeyMultibase"].startswith("z3u2")
    assert document["controller"] == "did:key:" + document["publicKeyMultibase"]
    assert document["id"] == (
        document["controller"] + "#" + document["publicKeyMultibase"]
    )
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    again = tmp_path / "again.json"
    runner.invoke(main, ["keys", "generate", "--seed", SEED, "--out", str(again)])
    assert json.loads(again.read_text()) == document


def test_keys_generate_never_overwrites(runner, tmp_path):
    out = tmp_path / "key.json"
    out.write_text("keep me")
    result = runner.invoke(main, ["keys", "generate", "--out", str(out)])
    assert result.exit_code == 2
    assert "already exists" in result.output
    assert out.read_text() == "keep me"


@pytest.mark.parametrize("seed", ["11" * 31, "zz" * 32, "11" * 33])
def test_keys_generate_bad_seed(runner, tmp_path, seed):
    result = runner.invoke(
        main, ["keys", "generate", "--seed", seed, "--out", str(tmp_path / "k.json")]
    )
    assert result.exit_code == 2
    assert repr(seed) in result.output
    assert not (tmp_path / "k.json").exists()


@pytest.mark.parametrize(
    ("suite", "vector"),
    [
        ("eddsa-rdfc-2022", "training-signed-rdfc.json"),
        ("eddsa-jcs-2022", "training-signed-jcs.json"),
    ],
)
def test_sign_reproduces_vector(runner, suite, vector):
    expected = json.loads((VECTORS / vector).read_text())
    result = runner.invoke(
        main,
        [
            "sign",
            "--key",
            str(VECTORS / "issuer-key.json"),
            "--suite",
            suite,
            "--created",
            expected["proof"]["created"],
            str(VECTORS / "training-unsigned.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    signed = json.loads(result.output)
    assert signed["issuer"] == expected["issuer"]
    assert signed["proof"]["proofValue"] == expected["proof"]["proofValue"]


def test_sign_bad_created(runner):
    result = runner.invoke(
        main,
        [
            "sign",
            "--key",
            str(VECTORS / "issuer-key.json"),
            "--created",
            "2025-03-14 10:00",
            str(VECTORS / "training-unsigned.json"),
        ],
    )
    assert result.exit_code == 2
    assert "2025-03-14 10:00" in result.output


def test_sign_then_verify(runner, tmp_path):
    key = tmp_path / "key.json"
    runner.invoke(main, ["keys", "generate", "--out", str(key)])
    unsigned = json.loads((VECTORS / "training-unsigned.json").read_text())
    source = tmp_path / "unsigned.json"
    source.write_text(json.dumps(unsigned))
    signed = runner.invoke(main, ["sign", "--key", str(key), str(source)])
    assert signed.exit_code == 0, signed.output
    path = tmp_path / "signed.json"
    path.write_text(signed.output)
    result = runner.invoke(main, ["verify", "--at", INSIDE_VALIDITY, str(path)])
    assert result.exit_code == 0, result.output
    assert "PASS  proof" in result.output
    assert "WARN  issuer-known" in result.output


def test_verify_json_output(runner):
    result = runner.invoke(
        main,
        [
            "verify",
            "--json",
            "--at",
            INSIDE_VALIDITY,
            str(VECTORS / "training-signed-rdfc.json"),
        ],
    )
    assert result.exit_code == 0
    # stdout holds only the JSON; the missing-database warning is on stderr.
    output = json.loads(result.stdout)
    assert output["verified"] is True
    for check in output["checks"]:
        assert isinstance(check["id"], str)
        assert isinstance(check["passed"], bool)
        assert isinstance(check["message"], str)
    # The same shape as the VC API's response body.
    assert output["errors"] == []
    assert len(output["warnings"]) == sum(
        1 for check in output["checks"] if not check["passed"]
    )


def test_verify_tampered_exits_1(runner, tmp_path):
    document = json.loads((VECTORS / "training-signed-rdfc.json").read_text())
    document["credentialSubject"]["level"] = "3"
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(document))
    result = runner.invoke(main, ["verify", "--at", INSIDE_VALIDITY, str(path)])
    assert result.exit_code == 1
    assert "FAIL  proof" in result.output


def test_verify_presentation_needs_challenge(runner):
    path = str(VECTORS / "presentation-signed.json")
    result = runner.invoke(main, ["verify", path])
    assert result.exit_code == 2
    assert "--challenge" in result.output
    result = runner.invoke(
        main,
        [
            "verify",
            "--challenge",
            "3d6f1c9a-55e2-4b7e-9f60-8d2a1b0c4e11",
            "--domain",
            "https://hr.verifier.example",
            "--at",
            INSIDE_VALIDITY,
            path,
        ],
    )
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("content", ["{broken", "", "SP1:%%%"])
def test_verify_unreadable_exits_2(runner, tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = runner.invoke(main, ["verify", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_verify_missing_file_exits_2(runner, tmp_path):
    result = runner.invoke(main, ["verify", str(tmp_path / "absent.json")])
    assert result.exit_code == 2


@pytest.mark.parametrize(
    "command",
    [
        ["orgs", "list"],
        ["registry", "list"],
        ["audit", "verify"],
        ["workflows", "import"],
        ["programmes", "progress", "--cohort", "C1"],
    ],
)
def test_command_without_database_fails_cleanly(runner, tmp_path, command):
    database = tmp_path / "data" / "passport.db"

    result = runner.invoke(main, command)

    assert result.exit_code == 1, result.output
    assert f"No Staff Passport database at {database}" in result.output
    assert "passport init" in result.output
    assert "Traceback" not in result.output
    assert not database.exists()


def test_command_on_empty_sqlite_file_fails_cleanly(runner, tmp_path):
    database = tmp_path / "data" / "passport.db"
    database.parent.mkdir()
    database.touch()

    result = runner.invoke(main, ["orgs", "list"])

    assert result.exit_code == 1, result.output
    assert f"No Staff Passport database at {database}" in result.output


@pytest.mark.postgres
def test_command_on_empty_postgres_fails_cleanly(runner, monkeypatch, postgres_url):
    from sqlalchemy.engine import make_url

    url = make_url(postgres_url).set(password="not-shown")
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))

    result = runner.invoke(main, ["registry", "list"])

    assert result.exit_code == 1, result.output
    assert "No Staff Passport database at postgresql" in result.output
    assert url.database in result.output
    assert "not-shown" not in result.output


def test_init_then_command_runs(runner, tmp_path):
    assert runner.invoke(main, ["init"]).exit_code == 0

    result = runner.invoke(main, ["orgs", "list"])

    assert result.exit_code == 0, result.output


def test_commands_without_database_exist():
    from passport.cli import COMMANDS_WITHOUT_DATABASE

    for path in COMMANDS_WITHOUT_DATABASE:
        command = main
        for name in path.split():
            command = command.commands[name]
        assert command.name == path.split()[-1]


def test_verify_without_database_warns(runner, tmp_path):
    from datetime import date

    from tests.verifier.support import issuer_key, training_credential

    # A platform credential: its status list is on the platform's default
    # plain-HTTP address, which only the platform's own database can supply.
    credential = training_credential(
        issuer_key(5),
        issuer_key(2).controller,
        "FS",
        date(2025, 6, 1),
        status_url="http://127.0.0.1:5000/status/5",
    )
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(credential))
    database = tmp_path / "data" / "passport.db"

    result = runner.invoke(main, ["verify", "--at", INSIDE_VALIDITY, str(path)])

    assert result.exit_code == 0, result.output
    assert "WARN  status" in result.stdout
    assert "https" not in result.stdout
    assert f"platform database at {database} was not found" in result.stderr
    assert not database.exists()


def test_verify_plain_text_names_expected_input(runner, tmp_path):
    path = tmp_path / "hello.txt"
    path.write_text("hello")

    result = runner.invoke(main, ["verify", str(path)])

    assert result.exit_code == 2
    assert "Expected the SP1: text from a wallet QR code" in result.output


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_sign_undefined_term_explained(runner, tmp_path, suite):
    key = tmp_path / "key.json"
    runner.invoke(main, ["keys", "generate", "--seed", SEED, "--out", str(key)])
    unsigned = json.loads((VECTORS / "training-unsigned.json").read_text())
    # Without the undefined-terms context, VCDM 2.0 defines no such term.
    unsigned["@context"] = ["https://www.w3.org/ns/credentials/v2"]
    unsigned["credentialSubject"]["undefinedTerm"] = "x"
    source = tmp_path / "unsigned.json"
    source.write_text(json.dumps(unsigned))

    result = runner.invoke(
        main, ["sign", "--key", str(key), "--suite", suite, str(source)]
    )

    assert result.exit_code == 1, result.output
    assert "'undefinedTerm'" in result.output
    assert "an eddsa-rdfc-2022 signature would not cover it" in result.output
    assert "signs only documents whose every term is defined" in result.output


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_example_credential_signs_and_verifies(runner, tmp_path, suite):
    example = (
        Path(__file__).resolve().parents[2] / "examples" / "unsigned-credential.json"
    )
    key = tmp_path / "key.json"
    runner.invoke(main, ["keys", "generate", "--out", str(key)])
    signed = runner.invoke(
        main, ["sign", "--key", str(key), "--suite", suite, str(example)]
    )
    assert signed.exit_code == 0, signed.output
    path = tmp_path / "signed.json"
    path.write_text(signed.stdout)

    result = runner.invoke(main, ["verify", "--at", "2027-01-01T00:00:00Z", str(path)])

    assert result.exit_code == 0, result.output
    assert json.loads(signed.stdout)["proof"]["cryptosuite"] == suite
