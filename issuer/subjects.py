"""CSTF (England) subjects and the ESR national competence names that denote them.

The table lives in ``issuer/data/cstf_subjects.csv`` so that a changed refresher
interval is a data change, not a code change. ESR national competence names
follow the pattern ``NHS|CSTF|<Subject>[ - <Level>] - <N> Year(s)|``: the owner
(``NHS``), the framework (``CSTF``) and a title that embeds the level and the
refresher interval. Locally defined competences start with an organisation
number and ``LOCAL`` instead, as in ``901|LOCAL|Dementia Awareness Tier 1 - 3 Years|``.
"""

import calendar
import csv
import functools
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from importlib import resources

__all__ = [
    "Subject",
    "add_months",
    "competence_key",
    "is_local_competence",
    "load_subjects",
    "lookup_competence",
    "subject_by_code",
]

_DATA_FILE = "cstf_subjects.csv"
_REQUIRED_COLUMNS = (
    "subject_code",
    "subject",
    "level",
    "title",
    "esr_competence_name",
    "refresher_months",
)
_LOCAL_PREFIX = re.compile(r"^\s*\d+\s*\|\s*LOCAL\s*\|", re.IGNORECASE)


@dataclass(frozen=True)
class Subject:
    """One CSTF subject at one level, with its ESR national competence name."""

    code: str
    subject: str
    level: str
    title: str
    esr_competence_name: str
    refresher_months: int

    @property
    def refresher_period(self) -> str:
        """Refresher interval as an ISO 8601 duration, such as ``P2Y`` or ``P18M``."""
        if self.refresher_months % 12 == 0:
            return f"P{self.refresher_months // 12}Y"
        return f"P{self.refresher_months}M"

    def refresher_due(self, completed: date) -> date:
        """Return the date on which training completed on ``completed`` expires."""
        return add_months(completed, self.refresher_months)


def add_months(start: date, months: int) -> date:
    """Add calendar months to a date, clamping to the last day of a shorter month.

    29 February 2024 plus 12 months is 28 February 2025, and 31 January plus one
    month is the last day of February.
    """
    month_index = start.year * 12 + (start.month - 1) + months
    year, month_zero_based = divmod(month_index, 12)
    month = month_zero_based + 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last_day))


@functools.cache
def load_subjects() -> tuple[Subject, ...]:
    """Load the bundled subject table once and return it in file order.

    :raises ValueError: if the bundled table is malformed, which is a packaging
        bug: a missing column, a duplicate code or name, or a refresher interval
        that is not a positive whole number of months.
    """
    text = resources.files("issuer").joinpath("data", _DATA_FILE).read_text("utf-8")
    reader = csv.DictReader(io.StringIO(text))
    missing = [
        name for name in _REQUIRED_COLUMNS if name not in (reader.fieldnames or [])
    ]
    if missing:
        raise ValueError(
            f"Subject table {_DATA_FILE!r} is missing the columns {missing!r}; "
            f"restore the header {','.join(_REQUIRED_COLUMNS)!r}."
        )

    subjects: list[Subject] = []
    for row in reader:
        months_text = row["refresher_months"].strip()
        if not months_text.isdigit() or int(months_text) == 0:
            raise ValueError(
                f"Subject {row['subject_code']!r} has refresher_months "
                f"{months_text!r}; expected a positive whole number of months."
            )
        subjects.append(
            Subject(
                code=row["subject_code"].strip(),
                subject=row["subject"].strip(),
                level=row["level"].strip(),
                title=row["title"].strip(),
                esr_competence_name=row["esr_competence_name"].strip(),
                refresher_months=int(months_text),
            )
        )

    _check_unique(subjects)
    return tuple(subjects)


def subject_by_code(code: str) -> Subject:
    """Return the subject with a code such as ``FS`` or ``RES2A``.

    :raises KeyError: if no subject has that code.
    """
    for subject in load_subjects():
        if subject.code == code:
            return subject
    known = ", ".join(subject.code for subject in load_subjects())
    raise KeyError(f"Unknown CSTF subject code {code!r}; expected one of {known}.")


def is_local_competence(name: str) -> bool:
    """Return whether an ESR competence name is an organisation's local one.

    Local names start with the organisation number and ``LOCAL``, for example
    ``901|LOCAL|Blood Component Transfusion - 2 Years|``.
    """
    return _LOCAL_PREFIX.match(name) is not None


def lookup_competence(name: str) -> Subject | None:
    """Return the CSTF subject for an ESR national competence name, or None.

    The match ignores letter case, Unicode normalisation form, spaces around and
    inside the pipe-separated parts, and a missing final ``|``, so
    ``nhs|cstf|Fire Safety - 2 Years  `` finds Fire Safety. Unknown names and
    local competences return None.
    """
    if is_local_competence(name):
        # Local competences are mapped per organisation, by the importer.
        return None
    return _subjects_by_key().get(competence_key(name))


@functools.cache
def _subjects_by_key() -> dict[str, Subject]:
    return {competence_key(s.esr_competence_name): s for s in load_subjects()}


def competence_key(name: str) -> str:
    """Return the form of a competence name that lookups compare.

    Letter case, Unicode normalisation form, runs of spaces around and
    inside the ``|``-separated parts and a missing final ``|`` do not
    matter, so ``nhs|cstf|Fire Safety - 2 Years  `` and
    ``NHS|CSTF|Fire Safety - 2 Years|`` have the same key.
    """
    normalised = unicodedata.normalize("NFC", name)
    parts = [" ".join(part.split()) for part in normalised.split("|")]
    if parts and parts[-1] == "":
        parts.pop()
    return "|".join(parts).casefold()


def _check_unique(subjects: list[Subject]) -> None:
    seen_codes: set[str] = set()
    seen_keys: set[str] = set()
    for subject in subjects:
        if subject.code in seen_codes:
            raise ValueError(
                f"Subject code {subject.code!r} appears twice in {_DATA_FILE!r}; "
                "give each subject and level one row."
            )
        key = competence_key(subject.esr_competence_name)
        if key in seen_keys:
            raise ValueError(
                f"Competence name {subject.esr_competence_name!r} appears twice in "
                f"{_DATA_FILE!r}; give each competence name one row."
            )
        seen_codes.add(subject.code)
        seen_keys.add(key)
