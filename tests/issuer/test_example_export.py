"""The committed example export parses to the counts that examples/README.md states."""

import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from issuer.esr_export import ExportRow, RowError, read_export
from issuer.subjects import load_subjects

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "esr_team_export_chelmer_valley.csv"
GENERATOR = ROOT / "examples" / "generate_esr_export.py"
README = ROOT / "examples" / "README.md"
AS_OF = date(2026, 3, 31)


def readme_count(label: str) -> int:
    match = re.search(rf"^\| {re.escape(label)} \| (\d+) \|$", README.read_text(), re.M)
    assert match is not None, f"examples/README.md has no row {label!r}"
    return int(match[1])


def readme_rejections() -> list[tuple[int, str | None]]:
    """Return (line, column) from the README's table of rejected rows."""
    text = README.read_text()
    table = text[text.index("The rejected rows") :]
    rows = re.findall(r"^\| (\d+) \| ([^|]+) \| ", table, re.M)
    return [
        (int(line), None if column == "(whole record)" else column)
        for line, column in rows
    ]


@pytest.fixture(scope="module")
def items() -> list[ExportRow | RowError]:
    return list(read_export(EXAMPLE, as_of=AS_OF))


@pytest.fixture(scope="module")
def good(items: list[ExportRow | RowError]) -> list[ExportRow]:
    return [item for item in items if isinstance(item, ExportRow)]


@pytest.fixture(scope="module")
def rejected(items: list[ExportRow | RowError]) -> list[RowError]:
    return [item for item in items if isinstance(item, RowError)]


def test_example_data_rows(items: list[ExportRow | RowError]) -> None:
    assert len(items) == readme_count("data rows")


def test_example_good_rows(good: list[ExportRow]) -> None:
    assert len(good) == readme_count("good rows")


def test_example_rejected_rows(rejected: list[RowError]) -> None:
    assert len(rejected) == readme_count("rejected rows")


def test_example_expiry_warnings(good: list[ExportRow]) -> None:
    disagreeing = [row for row in good if row.expiry_disagrees]

    assert len(disagreeing) == readme_count("good rows whose expiry disagrees")


def test_example_blank_expiry(good: list[ExportRow]) -> None:
    blank = [row for row in good if row.expiry_date is None]

    assert len(blank) == readme_count("good rows with a blank expiry")


def test_example_staff_count(good: list[ExportRow]) -> None:
    staff = {row.employee_number for row in good}

    assert len(staff) == readme_count("staff with good rows")
    assert len(staff) >= 50


def test_example_rejection_lines(rejected: list[RowError]) -> None:
    found = [(error.line, error.column) for error in rejected]

    assert found == readme_rejections()


def test_example_every_subject(good: list[ExportRow]) -> None:
    codes = {row.subject.code for row in good}

    assert codes == {subject.code for subject in load_subjects()}


def test_example_employee_numbers(good: list[ExportRow]) -> None:
    for row in good:
        assert row.employee_number.startswith("99")
        assert len(row.employee_number) == 8


def test_example_names_nfc(good: list[ExportRow]) -> None:
    names = {row.display_name for row in good}

    assert "Zoë STUB" in names
    assert not any("\u0308" in name for name in names)


def test_example_bom_and_crlf() -> None:
    data = EXAMPLE.read_bytes()

    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\r\n") == data.count(b"\n")


def test_example_generator_reproduces_file(tmp_path: Path) -> None:
    output = tmp_path / "export.csv"

    subprocess.run(
        [sys.executable, str(GENERATOR), "--output", str(output)],
        check=True,
        capture_output=True,
    )

    assert output.read_bytes() == EXAMPLE.read_bytes()
