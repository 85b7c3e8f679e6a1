"""``passport programmes progress`` and ``passport programmes validate``."""

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from passport.cli import main
from programmes.framework import library_path
from programmes.service import Programmes
from tests.programmes.conftest import People
from tests.programmes.test_service import add_all_evidence


@pytest.fixture
def cli_env(
    programme_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import TEST_PASSPHRASE

    monkeypatch.setenv("DATABASE_URL", programme_url)
    monkeypatch.setenv("PASSPORT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PASSPORT_KEY_PASSPHRASE", TEST_PASSPHRASE)


def test_progress_json(
    cli_env: None, programmes: Programmes, enrolment_ref: str, people: People
) -> None:
    add_all_evidence(programmes, enrolment_ref, "clin-delegation", people)
    programmes.sign_off(enrolment_ref, "clin-delegation", account_id=people.assessor)
    add_all_evidence(programmes, enrolment_ref, "man-change", people)

    result = CliRunner().invoke(
        main, ["programmes", "progress", "--cohort", "GLP-2026", "--json"]
    )

    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["cohort"] == "GLP-2026"
    assert figures["totals"]["learners"] == 1
    assert figures["totals"]["signed_off"] == 1
    assert figures["totals"]["awaiting_sign_off"] == 1
    learner = figures["learners"][0]
    assert learner["reference"] == enrolment_ref
    assert learner["competencies"] == 13
    assert learner["percent_complete"] == round(100 / 13, 1)
    assert learner["by_domain"]["clinical"] == {"competencies": 4, "done": 1}


def test_progress_unknown_cohort(cli_env: None, programmes: Programmes) -> None:
    result = CliRunner().invoke(
        main, ["programmes", "progress", "--cohort", "NOPE", "--json"]
    )

    assert result.exit_code == 2
    assert "No cohort 'NOPE'" in result.output


def test_validate_lists_errors(tmp_path: Path) -> None:
    document = yaml.safe_load((library_path() / "graduate-leadership.yaml").read_text())
    document["programme"]["competencies"][0]["signOff"] = "nobody"
    del document["programme"]["competencies"][8]["dimension"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(document))
    good = tmp_path / "good.yaml"
    shutil.copyfile(library_path() / "graduate-leadership.yaml", good)

    result = CliRunner().invoke(main, ["programmes", "validate", str(good), str(bad)])

    assert result.exit_code == 1
    assert "good.yaml: valid" in result.output
    assert "no sign-off rule 'nobody'" in result.output
    assert "needs a leadership dimension" in result.output
