"""Write the synthetic ESR-style team export used by the examples and tests.

Every person and organisation in the output is fictional. The output depends
only on SEED and AS_OF, never on the clock, so running the script again
reproduces the committed file byte for byte:

    python examples/generate_esr_export.py
    python examples/generate_esr_export.py --output /tmp/export.csv

The file is UTF-8 with a byte order mark and CRLF line endings, as Excel saves
it, with every data field quoted. Most rows are valid; a fixed set of malformed
rows, listed in MALFORMED_ROWS, exercises each rejection of the importer.
"""

import argparse
import calendar
import csv
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

SEED = 20260331
AS_OF = date(2026, 3, 31)
VPD = "901"
DEFAULT_OUTPUT = Path(__file__).with_name("esr_team_export_chelmer_valley.csv")

HEADER = (
    "Employee Number",
    "Assignment Number",
    "Full Name",
    "Organisation",
    "Position Title",
    "Staff Group",
    "Competence Name",
    "Competence Status",
    "Achievement Date",
    "Expiry Date",
    "Learning Source",
    "Last Updated By",
    "VPD",
)

# ESR national competence names and refresher intervals in months, the same
# values as issuer/data/cstf_subjects.csv. The script keeps its own copy so that
# it runs without the project installed.
COMPETENCES = {
    "CR": ("NHS|CSTF|Conflict Resolution - 3 Years|", 36),
    "EDHR": ("NHS|CSTF|Equality, Diversity and Human Rights - 3 Years|", 36),
    "FS": ("NHS|CSTF|Fire Safety - 2 Years|", 24),
    "HSW": ("NHS|CSTF|Health, Safety and Welfare - 3 Years|", 36),
    "IPC1": ("NHS|CSTF|Infection Prevention and Control - Level 1 - 3 Years|", 36),
    "IPC2": ("NHS|CSTF|Infection Prevention and Control - Level 2 - 1 Year|", 12),
    "IGDS": ("NHS|CSTF|Information Governance and Data Security - 1 Year|", 12),
    "MH1": ("NHS|CSTF|Moving and Handling - Level 1 - 3 Years|", 36),
    "MH2": ("NHS|CSTF|Moving and Handling - Level 2 - 2 Years|", 24),
    "PR12": (
        "NHS|CSTF|Preventing Radicalisation - Basic Prevent Awareness - 3 Years|",
        36,
    ),
    "PR3": ("NHS|CSTF|Preventing Radicalisation - Level 3 - 3 Years|", 36),
    "RES1": ("NHS|CSTF|Resuscitation - Level 1 - 1 Year|", 12),
    "RES2A": (
        "NHS|CSTF|Resuscitation - Level 2 - Adult Basic Life Support - 1 Year|",
        12,
    ),
    "RES3A": (
        "NHS|CSTF|Resuscitation - Level 3 - Adult Immediate Life Support - 1 Year|",
        12,
    ),
    "RES2P": (
        "NHS|CSTF|Resuscitation - Level 2 - Paediatric Basic Life Support - 1 Year|",
        12,
    ),
    "RES3P": (
        "NHS|CSTF|Resuscitation - Level 3 - Paediatric Immediate Life Support"
        " - 1 Year|",
        12,
    ),
    "RES2N": (
        "NHS|CSTF|Resuscitation - Level 2 - Newborn Basic Life Support - 1 Year|",
        12,
    ),
    "RES3N": ("NHS|CSTF|Resuscitation - Level 3 - Newborn Life Support - 1 Year|", 12),
    "SA1": ("NHS|CSTF|Safeguarding Adults - Level 1 - 3 Years|", 36),
    "SA2": ("NHS|CSTF|Safeguarding Adults - Level 2 - 3 Years|", 36),
    "SA3": ("NHS|CSTF|Safeguarding Adults - Level 3 - 3 Years|", 36),
    "SC1": ("NHS|CSTF|Safeguarding Children - Level 1 - 3 Years|", 36),
    "SC2": ("NHS|CSTF|Safeguarding Children - Level 2 - 3 Years|", 36),
    "SC3": ("NHS|CSTF|Safeguarding Children - Level 3 - 3 Years|", 36),
}

_CORE = ("CR", "EDHR", "FS", "HSW", "IGDS", "PR12")


@dataclass(frozen=True)
class Role:
    position: str
    staff_group: str
    organisation: str
    subjects: tuple[str, ...]


ROLES = (
    Role(
        "Ward Clerk",
        "Administrative and Clerical",
        "901 Elderly Care Ward 7",
        _CORE + ("IPC1", "MH1", "RES1", "SA1", "SC1"),
    ),
    Role(
        "Healthcare Assistant",
        "Additional Clinical Services",
        "901 Elderly Care Ward 7",
        _CORE + ("IPC2", "MH2", "RES2A", "SA2", "SC2"),
    ),
    Role(
        "Staff Nurse, Band 5",
        "Nursing and Midwifery Registered",
        "901 Elderly Care Ward 7",
        _CORE + ("IPC2", "MH2", "RES3A", "SA3", "SC2"),
    ),
    Role(
        "Midwife, Band 6",
        "Nursing and Midwifery Registered",
        "901 Maternity, Birth Centre",
        _CORE + ("IPC2", "MH2", "RES2A", "RES2N", "RES3N", "SA2", "SC3"),
    ),
    Role(
        "Children's Nurse, Band 5",
        "Nursing and Midwifery Registered",
        "901 Paediatrics, Robin Ward",
        _CORE + ("IPC2", "MH2", "RES2P", "RES3P", "SA2", "SC3"),
    ),
    Role(
        "Foundation Year 1 Doctor",
        "Medical and Dental",
        "901 Medicine for Older People",
        ("CR", "EDHR", "FS", "HSW", "IGDS", "PR3")
        + ("IPC2", "MH2", "RES3A", "SA3", "SC3"),
    ),
    Role(
        "Physiotherapist, Band 6",
        "Allied Health Professionals",
        "901 Therapies, Falls Team",
        _CORE + ("IPC2", "MH2", "RES2A", "SA2", "SC2"),
    ),
)

FAMILY_NAMES = (
    "TESTER",
    "SAMPLE",
    "EXAMPLE",
    "DUMMY",
    "MOCK",
    "PLACEHOLDER",
    "FIXTURE",
    "SPECIMEN",
    "STUB",
    "DEMO",
)
GIVEN_NAMES = (
    "Robin",
    "Alex",
    "Sam",
    "Jordan",
    "Morgan",
    "Zoë",
    "Casey",
    "Taylor",
    "Siân",
    "Jamie",
    "Charlie",
    "Seán",
    "Riley",
    "Avery",
    "Renée",
    "Quinn",
    "Rowan",
    "José",
    "Sasha",
    "Noël",
    "Kit",
    "Anaïs",
    "Drew",
    "Chloé",
    "Jesse",
    "Dónal",
)
STAFF_COUNT = 56
MONTH_ABBREVIATIONS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun") + (
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
LEARNING_SOURCES = ("e-Learning", "e-Learning", "e-Learning", "Classroom", "IAT")
UPDATERS = (
    "A01|SAMPLE, Morgan",
    "A02|MOCK, Taylor",
    "L14|EXAMPLE, Kit",
    "ESR|INTERFACE, Learning",
)


@dataclass(frozen=True)
class Person:
    employee_number: str
    full_name: str
    role: Role


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="CSV file to write (default: %(default)s)",
    )
    options = parser.parse_args(argv)

    rows = build_rows()
    with options.output.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerow(HEADER)
        csv.writer(handle, lineterminator="\r\n", quoting=csv.QUOTE_ALL).writerows(rows)
    print(f"Wrote {len(rows)} data rows to {options.output}")
    return 0


def build_rows() -> list[list[str]]:
    """Build every data row: valid rows per person, then the malformed ones."""
    rng = random.Random(SEED)
    people = build_people(rng)
    rows: list[list[str]] = []
    malformed: set[int] = set()

    for index, person in enumerate(people):
        codes = [code for code in person.role.subjects if rng.random() > 0.12]
        for code in codes:
            rows.append(valid_row(rng, person, code, assignment=1))
        if index == 3:
            # One person also works bank shifts: a second assignment with the
            # healthcare assistant matrix.
            bank = Person(person.employee_number, person.full_name, ROLES[1])
            for code in ("MH2", "RES2A"):
                rows.append(valid_row(rng, bank, code, assignment=2))
        if index in MALFORMED_ROWS:
            row = MALFORMED_ROWS[index](rng, person)
            malformed.add(id(row))
            rows.append(row)

    present = {row[6] for row in rows if id(row) not in malformed}
    missing = [code for code, (name, _) in COMPETENCES.items() if name not in present]
    if missing:
        raise SystemExit(f"Generator bug: no valid row for the subjects {missing}.")

    apply_tolerated_variants(rows, exclude=malformed)
    return rows


def build_people(rng: random.Random) -> list[Person]:
    people = []
    pairs = [(family, given) for given in GIVEN_NAMES for family in FAMILY_NAMES]
    rng.shuffle(pairs)
    for number, (family, given) in enumerate(pairs[:STAFF_COUNT]):
        role = ROLES[number % len(ROLES)]
        title = ""
        if role.staff_group == "Medical and Dental":
            title = "Dr "
        elif number % 9 == 2:
            title = "Mr "
        people.append(
            Person(
                employee_number=f"99{100001 + number * 37:06d}",
                full_name=f"{title}{family}, {given}",
                role=role,
            )
        )
    return people


def valid_row(
    rng: random.Random, person: Person, code: str, assignment: int
) -> list[str]:
    """Build a valid row whose dates fall into a realistic expiry bucket."""
    name, months = COMPETENCES[code]
    bucket = rng.random()
    if bucket < 0.70:
        # Valid with more than 90 days to run.
        days_left = rng.randint(91, months * 30 - 30)
    elif bucket < 0.82:
        # Expiring within the next 90 days.
        days_left = rng.randint(1, 90)
    elif bucket < 0.94:
        # Expired within the last 90 days.
        days_left = -rng.randint(0, 89)
    else:
        # Expired more than a year ago: long absence or never refreshed.
        days_left = -rng.randint(366, 500)
    achieved = add_months(AS_OF + timedelta(days=days_left), -months)
    expiry = add_months(achieved, months)
    return make_row(person, assignment, name, status_for(expiry), achieved, expiry, rng)


def make_row(
    person: Person,
    assignment: int,
    competence: str,
    status: str,
    achieved: date | None,
    expiry: date | None,
    rng: random.Random,
) -> list[str]:
    style = rng.random()
    return [
        person.employee_number,
        f"{person.employee_number}-{assignment}",
        person.full_name,
        person.role.organisation,
        person.role.position if assignment == 1 else "Bank Healthcare Assistant",
        person.role.staff_group,
        competence,
        status,
        format_date(achieved, style),
        format_date(expiry, style),
        rng.choice(LEARNING_SOURCES),
        rng.choice(UPDATERS),
        VPD,
    ]


def format_date(value: date | None, style: float) -> str:
    """Write most dates as ESR does and some as Excel rewrites them."""
    if value is None:
        return ""
    if style < 0.86:
        return f"{value.day:02d}-{MONTH_ABBREVIATIONS[value.month - 1]}-{value.year}"
    if style < 0.93:
        return f"{value.day:02d}/{value.month:02d}/{value.year}"
    return f"{value.isoformat()} 00:00:00"


def status_for(expiry: date) -> str:
    if expiry <= AS_OF:
        return "Expired"
    if expiry <= AS_OF + timedelta(days=90):
        return "Expiring"
    return "Meets Requirement"


def add_months(start: date, months: int) -> date:
    month_index = start.year * 12 + start.month - 1 + months
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last_day))


def apply_tolerated_variants(rows: list[list[str]], exclude: set[int]) -> None:
    """Rewrite some valid rows into forms that the importer must still accept.

    Each rewrite takes rows that no earlier rewrite touched, so every variant
    appears on its own. Rows whose id() is in ``exclude`` are never rewritten.
    """
    used = set(exclude)

    def take(count: int, code: str | None = None, skip: int = 0) -> list[list[str]]:
        taken: list[list[str]] = []
        for row in rows:
            if id(row) in used:
                continue
            if code is not None and row[6] != COMPETENCES[code][0]:
                continue
            if skip:
                skip -= 1
                continue
            used.add(id(row))
            taken.append(row)
            if len(taken) == count:
                return taken
        raise SystemExit(f"Generator bug: too few rows for a variant of {code}.")

    # Competence names as hand-edited or truncated exports write them.
    for row in take(3, skip=5):
        row[6] = row[6] + "  "
    for row in take(3, skip=40):
        row[6] = row[6].rstrip("|")
    for row in take(3, skip=80):
        row[6] = row[6].replace("NHS|CSTF|", "nhs|cstf|")

    # An expiry one year after achievement on a two-year competence: a warning.
    for row in take(4, "FS", skip=2):
        row[9] = format_date(add_months(_read_date(row[8]), 12), 0.0)

    # A blank expiry on a refresher subject.
    for row in take(3, skip=120):
        row[9] = ""

    # 29 February achievements, whose expiry falls on 28 February.
    for code in ("SA2", "MH2"):
        row = take(1, code)[0]
        achieved = date(2024, 2, 29)
        expiry = add_months(achieved, COMPETENCES[code][1])
        row[7] = status_for(expiry)
        row[8] = format_date(achieved, 0.0)
        row[9] = format_date(expiry, 0.0)

    # A day-first date that reads as 4 March in US order but is 3 April 2025.
    row = take(1, "IGDS", skip=4)[0]
    row[7] = status_for(date(2026, 4, 3))
    row[8] = "03/04/2025"
    row[9] = "03/04/2026"

    # One person's name in decomposed Unicode (e + combining diaeresis), which
    # the importer normalises to NFC.
    employee_number = next(row[0] for row in rows if "Zoë" in row[2])
    for row in rows:
        if row[0] == employee_number:
            row[2] = row[2].replace("Zoë", "Zoe\u0308")


def _read_date(text: str) -> date:
    if "/" in text:
        day, month, year = text.split("/")
        return date(int(year), int(month), int(day))
    if text[4] == "-":
        return date.fromisoformat(text[:10])
    day, month_name, year = text.split("-")
    return date(int(year), MONTH_ABBREVIATIONS.index(month_name) + 1, int(day))


def _malformed(
    competence: str = COMPETENCES["FS"][0],
    status: str = "Meets Requirement",
    achieved: str = "14-Feb-2025",
    expiry: str = "14-Feb-2027",
    full_name: str | None = None,
    drop_last_column: bool = False,
) -> Callable[[random.Random, Person], list[str]]:
    def build(rng: random.Random, person: Person) -> list[str]:
        row = make_row(person, 1, competence, status, None, None, rng)
        row[8] = achieved
        row[9] = expiry
        if full_name is not None:
            row[2] = full_name
        if drop_last_column:
            row.pop()
        return row

    return build


# Malformed rows, each added after the valid rows of the person at that index.
MALFORMED_ROWS = {
    2: _malformed(achieved="14-Fbe-2025"),
    6: _malformed(achieved="31-Feb-2025", expiry="28-Feb-2027"),
    10: _malformed(achieved="29-Feb-2025", expiry="28-Feb-2027"),
    14: _malformed(competence="NHS|CSTF|Fire Safety - 1 Year|", expiry="14-Feb-2026"),
    18: _malformed(competence="901|LOCAL|Mental Capacity Act and DoLS - 3 Years|"),
    22: _malformed(
        competence=COMPETENCES["SA3"][0],
        status="Not Achieved",
        achieved="",
        expiry="",
    ),
    26: _malformed(full_name="TESTER, Ro\x07bin"),
    30: _malformed(drop_last_column=True),
    34: _malformed(achieved="15-May-2026", expiry="15-May-2028"),
    38: _malformed(achieved="", expiry=""),
    42: _malformed(achieved="04/13/2025", expiry="04/13/2027"),
    46: _malformed(full_name=""),
}

_NAMES = {name for name, _ in COMPETENCES.values()}


if __name__ == "__main__":
    sys.exit(main())
