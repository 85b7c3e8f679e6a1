"""Write a large synthetic ESR-style team export, for load tests and benchmarks.

A whole trust sends tens of thousands of staff with a dozen subjects each.
This script writes such a file, streaming, from a seed, so the same
arguments always give the same bytes:

    .venv/bin/python examples/synthetic_export.py --staff 40000 --output trust.csv
    .venv/bin/python examples/synthetic_export.py --staff 1000 --bad-every 50 \
        --output bad.csv

Every person is fictional: names come from an obviously synthetic pool and
employee numbers start with 99. The file has a UTF-8 byte order mark, CRLF
line endings, every field quoted, dates in the three forms exports use
(``DD-Mon-YYYY``, ``DD/MM/YYYY``, ``YYYY-MM-DD 00:00:00``) and names with
accents, some in decomposed Unicode. With ``--bad-every N`` every N-th row
is malformed in one of the ways an importer must reject, and with
``--local-every N`` every N-th row is a local competence.
"""

import argparse
import csv
import random
import sys
import unicodedata
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import IO

from issuer.esr_export import EXPECTED_COLUMNS

# The team export's header, in ESR's column order.
HEADER = EXPECTED_COLUMNS

# A dozen CSTF subjects a ward nurse holds, with the ESR national names and
# refresher intervals in months (as in issuer/data/cstf_subjects.csv).
SUBJECTS = (
    ("NHS|CSTF|Conflict Resolution - 3 Years|", 36),
    ("NHS|CSTF|Equality, Diversity and Human Rights - 3 Years|", 36),
    ("NHS|CSTF|Fire Safety - 2 Years|", 24),
    ("NHS|CSTF|Health, Safety and Welfare - 3 Years|", 36),
    ("NHS|CSTF|Infection Prevention and Control - Level 2 - 1 Year|", 12),
    ("NHS|CSTF|Information Governance and Data Security - 1 Year|", 12),
    ("NHS|CSTF|Moving and Handling - Level 2 - 2 Years|", 24),
    ("NHS|CSTF|Preventing Radicalisation - Basic Prevent Awareness - 3 Years|", 36),
    ("NHS|CSTF|Resuscitation - Level 3 - Adult Immediate Life Support - 1 Year|", 12),
    ("NHS|CSTF|Safeguarding Adults - Level 3 - 3 Years|", 36),
    ("NHS|CSTF|Safeguarding Children - Level 2 - 3 Years|", 36),
    ("NHS|CSTF|Infection Prevention and Control - Level 1 - 3 Years|", 36),
)
LOCAL_COMPETENCE = "901|LOCAL|Fire Safety Annual - 1 Year|"
FAMILY_NAMES = ("TESTER", "SAMPLE", "EXAMPLE", "DUMMY", "MOCK", "FIXTURE", "STUB")
GIVEN_NAMES = ("Robin", "Zoë", "Siân", "Seán", "Renée", "José", "Anaïs", "Dónal", "Kit")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov")
MONTHS += ("Dec",)
BAD_ROWS = (
    {"Achievement Date": "31-Feb-2025"},
    {"Competence Name": "NHS|CSTF|Basket Weaving - 3 Years|"},
    {"Full Name": "TESTER, Ro\u0007bin"},
    {"Competence Status": "Not Achieved"},
    {"Achievement Date": "04/13/2025"},
    {"Employee Number": "99-ABC"},
)


def _date_text(day: date, style: int) -> str:
    if style == 0:
        return f"{day.day:02d}-{MONTHS[day.month - 1]}-{day.year}"
    if style == 1:
        return f"{day.day:02d}/{day.month:02d}/{day.year}"
    return f"{day.isoformat()} 00:00:00"


def _add_months(start: date, months: int) -> date:
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    day = min(start.day, 28)
    return date(year, month + 1, day)


def export_rows(
    staff: int,
    *,
    subjects: int = len(SUBJECTS),
    as_of: date = date(2026, 3, 31),
    first_number: int = 99000001,
    seed: int = 20260331,
    bad_every: int = 0,
    local_every: int = 0,
) -> Iterator[dict[str, str]]:
    """Yield the data rows of an export of ``staff`` people, ``subjects`` each."""
    rng = random.Random(seed)
    row_number = 0
    for person in range(staff):
        number = str(first_number + person)
        name = f"{rng.choice(FAMILY_NAMES)}, {rng.choice(GIVEN_NAMES)}"
        if person % 7 == 3:
            name = unicodedata.normalize("NFD", name)
        for competence, months in SUBJECTS[:subjects]:
            row_number += 1
            achieved = as_of - timedelta(days=rng.randrange(1, 700))
            row = {
                "Employee Number": number,
                "Assignment Number": f"{number}-1",
                "Full Name": name,
                "Organisation": "901 Elderly Care, Ward 7",
                "Position Title": "Staff Nurse, Band 5",
                "Staff Group": "Nursing and Midwifery Registered",
                "Competence Name": competence,
                "Competence Status": "Meets Requirement",
                "Achievement Date": _date_text(achieved, row_number % 3),
                "Expiry Date": _date_text(_add_months(achieved, months), 0),
                "Learning Source": "e-Learning",
                "Last Updated By": "A01|EXAMPLE, Updater",
                "VPD": "901",
            }
            if local_every and row_number % local_every == 0:
                row["Competence Name"] = LOCAL_COMPETENCE
            if bad_every and row_number % bad_every == 0:
                row.update(BAD_ROWS[(row_number // bad_every) % len(BAD_ROWS)])
            yield row


def write_export(output: IO[str], rows: Iterator[dict[str, str]]) -> int:
    """Write ``rows`` as an export to a text stream opened with newline="".

    :returns: the number of data rows written.
    """
    output.write("\ufeff")
    writer = csv.writer(output, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(HEADER)
    count = 0
    for row in rows:
        writer.writerow([row[column] for column in HEADER])
        count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, required=True, help="People in the file.")
    parser.add_argument(
        "--subjects", type=int, default=len(SUBJECTS), help="Subjects per person."
    )
    parser.add_argument(
        "--bad-every", type=int, default=0, help="Make every N-th row malformed."
    )
    parser.add_argument(
        "--local-every", type=int, default=0, help="Make every N-th row local."
    )
    parser.add_argument("--output", type=Path, required=True, help="File to write.")
    arguments = parser.parse_args(argv)
    with arguments.output.open("w", encoding="utf-8", newline="") as handle:
        count = write_export(
            handle,
            export_rows(
                arguments.staff,
                subjects=arguments.subjects,
                bad_every=arguments.bad_every,
                local_every=arguments.local_every,
            ),
        )
    print(f"Wrote {count} rows to {arguments.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
