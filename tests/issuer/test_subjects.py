import re
from datetime import date

import pytest

from issuer.subjects import (
    Subject,
    add_months,
    is_local_competence,
    load_subjects,
    lookup_competence,
    subject_by_code,
)

# The 24 subject codes and titles of the credential shape, in table order.
EXPECTED_TITLES = {
    "CR": "Conflict Resolution",
    "EDHR": "Equality, Diversity and Human Rights",
    "FS": "Fire Safety",
    "HSW": "Health, Safety and Welfare",
    "IPC1": "Infection Prevention and Control - Level 1",
    "IPC2": "Infection Prevention and Control - Level 2",
    "IGDS": "Information Governance and Data Security",
    "MH1": "Moving and Handling - Level 1",
    "MH2": "Moving and Handling - Level 2",
    "PR12": "Preventing Radicalisation - Basic Prevent Awareness",
    "PR3": "Preventing Radicalisation - Level 3",
    "RES1": "Resuscitation - Level 1",
    "RES2A": "Resuscitation - Level 2 - Adult Basic Life Support",
    "RES3A": "Resuscitation - Level 3 - Adult Immediate Life Support",
    "RES2P": "Resuscitation - Level 2 - Paediatric Basic Life Support",
    "RES3P": "Resuscitation - Level 3 - Paediatric Immediate Life Support",
    "RES2N": "Resuscitation - Level 2 - Newborn Basic Life Support",
    "RES3N": "Resuscitation - Level 3 - Newborn Life Support",
    "SA1": "Safeguarding Adults - Level 1",
    "SA2": "Safeguarding Adults - Level 2",
    "SA3": "Safeguarding Adults - Level 3",
    "SC1": "Safeguarding Children - Level 1",
    "SC2": "Safeguarding Children - Level 2",
    "SC3": "Safeguarding Children - Level 3",
}
ENGLAND_SUBJECTS = {
    "Conflict Resolution",
    "Equality, Diversity and Human Rights",
    "Fire Safety",
    "Health, Safety and Welfare",
    "Infection Prevention and Control",
    "Information Governance and Data Security",
    "Moving and Handling",
    "Preventing Radicalisation",
    "Resuscitation",
    "Safeguarding Adults",
    "Safeguarding Children",
}
ESR_NAME = re.compile(r"NHS\|CSTF\|(?P<title>.+) - (?P<years>\d+) Years?\|")


def test_table_codes_match_shape() -> None:
    codes = [subject.code for subject in load_subjects()]

    assert codes == list(EXPECTED_TITLES)


def test_table_titles_match_shape() -> None:
    titles = {subject.code: subject.title for subject in load_subjects()}

    assert titles == EXPECTED_TITLES


def test_table_covers_eleven_england_subjects() -> None:
    subjects = {subject.subject for subject in load_subjects()}

    assert subjects == ENGLAND_SUBJECTS


@pytest.mark.parametrize("subject", load_subjects(), ids=lambda s: s.code)
def test_table_name_follows_esr_pattern(subject: Subject) -> None:
    match = ESR_NAME.fullmatch(subject.esr_competence_name)

    assert match is not None
    assert match["title"] == subject.title


@pytest.mark.parametrize("subject", load_subjects(), ids=lambda s: s.code)
def test_table_interval_matches_name(subject: Subject) -> None:
    match = ESR_NAME.fullmatch(subject.esr_competence_name)
    assert match is not None

    assert subject.refresher_months == int(match["years"]) * 12


def test_table_singular_year_for_one() -> None:
    for subject in load_subjects():
        if subject.refresher_months == 12:
            assert subject.esr_competence_name.endswith(" - 1 Year|")


def test_table_levels() -> None:
    levels = {subject.code: subject.level for subject in load_subjects()}

    assert levels["FS"] == "1"
    assert levels["PR12"] == "1-2"
    assert levels["RES3N"] == "3"
    assert levels["SC2"] == "2"


def test_load_subjects_cached() -> None:
    assert load_subjects() is load_subjects()


@pytest.mark.parametrize(
    ("code", "period"),
    [("FS", "P2Y"), ("IGDS", "P1Y"), ("SA3", "P3Y"), ("MH2", "P2Y")],
)
def test_refresher_period_in_years(code: str, period: str) -> None:
    assert subject_by_code(code).refresher_period == period


def test_refresher_period_in_months() -> None:
    subject = Subject("X", "X", "1", "X", "NHS|CSTF|X - 18 Months|", 18)

    assert subject.refresher_period == "P18M"


def test_subject_frozen() -> None:
    subject = subject_by_code("FS")

    with pytest.raises(AttributeError):
        subject.refresher_months = 12  # type: ignore[misc]


def test_subject_by_code_unknown() -> None:
    with pytest.raises(KeyError, match="'XX'"):
        subject_by_code("XX")


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("NHS|CSTF|Fire Safety - 2 Years|", "FS"),
        ("NHS|CSTF|Fire Safety - 2 Years|   ", "FS"),
        ("NHS|CSTF|Fire Safety - 2 Years", "FS"),
        ("NHS|CSTF|Fire Safety - 2 Years  ", "FS"),
        ("nhs|cstf|Fire Safety - 2 Years|", "FS"),
        ("  NHS|CSTF|Fire Safety - 2 Years|", "FS"),
        ("NHS|CSTF|Fire Safety  - 2 Years |", "FS"),
        ("NHS|CSTF|Equality, Diversity and Human Rights - 3 Years|", "EDHR"),
        (
            "NHS|CSTF|Resuscitation - Level 3 - Newborn Life Support - 1 Year|",
            "RES3N",
        ),
    ],
)
def test_lookup_competence_tolerated(name: str, code: str) -> None:
    subject = lookup_competence(name)

    assert subject is not None
    assert subject.code == code


@pytest.mark.parametrize("subject", load_subjects(), ids=lambda s: s.code)
def test_lookup_competence_every_subject(subject: Subject) -> None:
    assert lookup_competence(subject.esr_competence_name) is subject


@pytest.mark.parametrize(
    "name",
    [
        "",
        "|",
        "Fire Safety",
        "NHS|CSTF|Fire Safety - 1 Year|",
        "NHS|CSTF|Fire Safety|",
        "NHS|LOCAL|Fire Safety - 2 Years|",
        "NHS|CSTF|Fire Safety - 2 Years|Extra|",
        "NHS|CSTF|Violence and Aggression - 3 Years|",
    ],
)
def test_lookup_competence_unknown(name: str) -> None:
    assert lookup_competence(name) is None


@pytest.mark.parametrize(
    "name",
    [
        "901|LOCAL|Mental Capacity Act and DoLS - 3 Years|",
        "457|LOCAL|Fire Safety - 2 Years|",
        "902|local|Fire Safety Annual - 1 Year|",
    ],
)
def test_lookup_competence_local(name: str) -> None:
    assert lookup_competence(name) is None


def test_is_local_competence_local() -> None:
    assert is_local_competence("901|LOCAL|Dementia Awareness Tier 1 - 3 Years|")


def test_is_local_competence_national() -> None:
    assert not is_local_competence("NHS|CSTF|Fire Safety - 2 Years|")


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 24, date(2026, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 8, 31), 1, date(2025, 9, 30)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2025, 2, 14), 24, date(2027, 2, 14)),
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
        (date(2025, 3, 31), 0, date(2025, 3, 31)),
    ],
)
def test_add_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_refresher_due_leap_day() -> None:
    assert subject_by_code("IGDS").refresher_due(date(2024, 2, 29)) == date(2025, 2, 28)
