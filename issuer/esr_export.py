"""Streaming reader for ESR-style team training exports.

A team export is a CSV file with one row per person and competence::

    Employee Number,Assignment Number,Full Name,Organisation,Position Title,
    Staff Group,Competence Name,Competence Status,Achievement Date,Expiry Date,
    Learning Source,Last Updated By,VPD

``read_export`` checks the header once, then yields one item per data record:
an ``ExportRow`` for a completed CSTF competence, or a ``RowError`` that names
the line, the column and the problem. A bad row never stops the rows after it.

The reader accepts a UTF-8 byte order mark, CRLF or LF line endings, quoted
fields containing commas, pipes and line breaks, columns in any order, and extra
columns, which it ignores. Dates may be ``DD-Mon-YYYY`` (ESR's own format),
``DD/MM/YYYY`` or ``YYYY-MM-DD`` with an optional midnight time, as Excel tends
to rewrite them.

"Last Updated By" is the ESR user who last edited the record, not the learner,
so the reader never takes the person from it. The employee number is kept only
to match the row to a person and must never be written into a credential.
"""

import calendar
import csv
import io
import logging
import os
import re
import unicodedata
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import IO, TYPE_CHECKING

from issuer.subjects import (
    Subject,
    competence_key,
    is_local_competence,
    lookup_competence,
)

if TYPE_CHECKING:
    from _csv import Reader as CsvReader

__all__ = [
    "ACCEPTED_STATUSES",
    "EXPECTED_COLUMNS",
    "REQUIRED_COLUMNS",
    "ExportFormatError",
    "ExportRow",
    "RowError",
    "parse_display_name",
    "parse_export_date",
    "read_export",
]

logger = logging.getLogger(__name__)

EMPLOYEE_NUMBER = "Employee Number"
FULL_NAME = "Full Name"
COMPETENCE_NAME = "Competence Name"
COMPETENCE_STATUS = "Competence Status"
ACHIEVEMENT_DATE = "Achievement Date"
EXPIRY_DATE = "Expiry Date"

EXPECTED_COLUMNS = (
    EMPLOYEE_NUMBER,
    "Assignment Number",
    FULL_NAME,
    "Organisation",
    "Position Title",
    "Staff Group",
    COMPETENCE_NAME,
    COMPETENCE_STATUS,
    ACHIEVEMENT_DATE,
    EXPIRY_DATE,
    "Learning Source",
    "Last Updated By",
    "VPD",
)
"""The team export's full header, in ESR's column order."""

REQUIRED_COLUMNS = (
    EMPLOYEE_NUMBER,
    FULL_NAME,
    COMPETENCE_NAME,
    COMPETENCE_STATUS,
    ACHIEVEMENT_DATE,
    EXPIRY_DATE,
)
"""The columns the reader uses; a header without any of them rejects the file."""

ACCEPTED_STATUSES = ("Meets Requirement", "Expiring", "Expired")
"""Competence statuses that record a completion. ``Not Achieved`` does not."""

NOT_ACHIEVED = "Not Achieved"

_DATE_FORMATS_HINT = "DD-Mon-YYYY such as 14-Feb-2025, DD/MM/YYYY or YYYY-MM-DD"
# English month names, spelled out because the calendar module's names follow
# the process locale.
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June") + (
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTH_ABBREVIATIONS = {
    name[:3].casefold(): number for number, name in enumerate(_MONTH_NAMES, start=1)
}
_ESR_DATE = re.compile(r"(\d{1,2})-([A-Za-z]{3})-(\d{4})")
_SLASH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?")
_TITLES = frozenset(
    ("dr", "mr", "mrs", "ms", "miss", "mx", "prof", "professor", "rev", "revd")
    + ("sir", "dame", "lord", "lady")
)
# Characters that have no place in a person's name: C0 and C1 controls
# (including tab and line breaks), format characters such as zero-width spaces
# and bidirectional overrides, surrogates, private-use characters, and the
# Unicode line and paragraph separators.
_FORBIDDEN_NAME_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Co", "Zl", "Zp"))

MAX_DISPLAY_NAME_LENGTH = 200
"""The maximum length of a display name in characters, which is the width of
the staff record and account name columns. A longer name failed the whole
import batch on PostgreSQL, so it is rejected as a row error instead."""
# Bytes that are not valid UTF-8 decode to lone surrogates U+DC80..U+DCFF
# under the "surrogateescape" error handler.
_UNDECODABLE = re.compile("[\udc80-\udcff]")


class ExportFormatError(ValueError):
    """The file as a whole is not a readable team export, so no row was read."""

    def __init__(self, message: str, missing_columns: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.missing_columns = missing_columns


@dataclass(frozen=True)
class ExportRow:
    """A completed CSTF competence read from one data record.

    ``expiry_date`` is the export's own expiry, or None when the cell is blank.
    ``expected_expiry`` is the achievement date plus the subject's refresher
    interval, which is the expiry a credential gets. ``expiry_disagrees`` is a
    warning, not an error: the export's expiry is present but differs.
    """

    line: int
    employee_number: str = field(repr=False)
    display_name: str = field(repr=False)
    subject: Subject
    status: str
    achievement_date: date
    expiry_date: date | None
    expected_expiry: date
    expiry_disagrees: bool


@dataclass(frozen=True)
class RowError:
    """A data record that was rejected, with the reason as one sentence.

    ``line`` is the physical line on which the record starts, counting the
    header as line 1. ``column`` is None when the problem is the record as a
    whole, such as a wrong number of fields.
    """

    line: int
    column: str | None
    value: str
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}"
        if self.column is not None:
            where += f", {self.column} {self.value!r}"
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class _RowRules:
    as_of: date | None
    local_competences: Mapping[str, Subject]


@dataclass(frozen=True)
class _Header:
    columns: dict[str, int]
    field_count: int


class _RowRejected(Exception):
    def __init__(self, column: str | None, value: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.value = value
        self.reason = reason


def read_export(
    stream: IO[bytes] | str | os.PathLike[str],
    *,
    as_of: date | None = None,
    local_competences: Mapping[str, Subject] | None = None,
) -> Generator[ExportRow | RowError, None, None]:
    """Read a team export and yield one ``ExportRow`` or ``RowError`` per record.

    The header is read and checked before this function returns, so a file of
    the wrong kind fails at the call, not halfway through an import. Blank
    lines, and records whose fields are all blank, are skipped.

    :param stream: a binary file object, or the path of a file to open. A path
        is closed when the iterator is exhausted or garbage-collected, and a
        stream is left open for the caller to close.
    :param as_of: the reference date of the import. An achievement date after
        it is rejected. ``None`` skips that check.
    :param local_competences: the organisation's table of local competences
        (``NNN|LOCAL|Title|``) and the CSTF subjects they count as, keyed by
        :func:`issuer.subjects.competence_key`. A local competence not in it
        is rejected with the reason.
    :raises ExportFormatError: if the file is empty, is UTF-16, repeats a
        column, or lacks a column in ``REQUIRED_COLUMNS``.
    """
    if isinstance(stream, str | os.PathLike):
        binary: IO[bytes] = open(stream, "rb")
        owns_stream = True
    else:
        binary = stream
        owns_stream = False

    text = io.TextIOWrapper(
        binary, encoding="utf-8-sig", errors="surrogateescape", newline=""
    )
    try:
        reader = csv.reader(text)
        header = _read_header(reader)
    except BaseException:
        _release(text, owns_stream)
        raise
    rules = _RowRules(as_of, local_competences or {})
    return _records(text, reader, header, rules, owns_stream)


def parse_export_date(text: str) -> date:
    """Parse a date as an ESR export or Excel writes it.

    Accepted forms are ``14-Feb-2025`` (month abbreviation in any case),
    ``14/02/2025`` (day first) and ``2025-02-14``, the last optionally followed
    by a midnight time such as ``00:00:00``. Surrounding spaces are ignored.

    :raises ValueError: with a one-sentence reason if the text is no such date
        or names a day that does not exist, such as 31 February.
    """
    value = text.strip()

    if match := _ESR_DATE.fullmatch(value):
        day_text, month_text, year_text = match.groups()
        month = _MONTH_ABBREVIATIONS.get(month_text.casefold())
        if month is None:
            raise ValueError(
                f"{month_text!r} is not a month abbreviation, expected Jan to Dec "
                "as in 14-Feb-2025."
            )
        return _calendar_date(int(year_text), month, int(day_text))

    if match := _SLASH_DATE.fullmatch(value):
        day_text, month_text, year_text = match.groups()
        return _calendar_date(int(year_text), int(month_text), int(day_text))

    if match := _ISO_DATE.fullmatch(value):
        year_text, month_text, day_text, hour, minute, second = match.groups()
        if hour is not None and (hour, minute, second or "00") != ("00", "00", "00"):
            raise ValueError(
                "The value has a time of day other than midnight, expected a date "
                "alone or a date followed by 00:00:00."
            )
        return _calendar_date(int(year_text), int(month_text), int(day_text))

    raise ValueError(f"The value is not a date, expected {_DATE_FORMATS_HINT}.")


def parse_display_name(full_name: str) -> str:
    """Turn an ESR ``SURNAME, Forename`` name into ``Forename SURNAME``.

    A leading title such as ``Dr`` or ``Mr`` is dropped, whether it stands
    before the surname (``Dr TESTER, Robin``) or before the forenames. Runs of
    spaces become one space and the result is in Unicode NFC.

    :raises ValueError: with a one-sentence reason if the name is blank,
        contains a control or invisible formatting character, is not of the
        form ``SURNAME, Forename``, or is longer than
        :data:`MAX_DISPLAY_NAME_LENGTH` once turned around.
    """
    _check_name_characters(full_name)
    name = unicodedata.normalize("NFC", full_name)
    if not name.strip():
        raise ValueError("The name is blank, expected the form 'SURNAME, Forename'.")
    if name.count(",") != 1:
        raise ValueError(
            "The name is not of the form 'SURNAME, Forename', expected exactly "
            "one comma between the surname and the forenames."
        )

    surname_part, forename_part = name.split(",")
    surname_words = _drop_title(surname_part.split())
    forename_words = _drop_title(forename_part.split())
    if not surname_words or not forename_words:
        raise ValueError(
            "The name lacks a surname or a forename, expected the form "
            "'SURNAME, Forename'."
        )
    display_name = f"{' '.join(forename_words)} {' '.join(surname_words)}"
    check_display_name(display_name)
    return display_name


def check_display_name(display_name: str) -> None:
    """Check a name that is about to be signed into credentials and stored.

    :raises ValueError: with a one-sentence reason if the name contains a
        control or invisible formatting character or is longer than
        :data:`MAX_DISPLAY_NAME_LENGTH`.
    """
    _check_name_characters(display_name)
    if len(display_name) > MAX_DISPLAY_NAME_LENGTH:
        raise ValueError(
            f"The name is {len(display_name)} characters long, expected at most "
            f"{MAX_DISPLAY_NAME_LENGTH} characters."
        )


def _check_name_characters(name: str) -> None:
    for char in name:
        if unicodedata.category(char) in _FORBIDDEN_NAME_CATEGORIES:
            raise ValueError(
                f"The name contains the control or formatting character "
                f"U+{ord(char):04X}, expected printable characters only."
            )


def _read_header(reader: "CsvReader") -> _Header:
    try:
        header = next(reader)
    except StopIteration:
        raise ExportFormatError(
            "The export is empty, expected a header line starting "
            f"{EXPECTED_COLUMNS[0]!r} followed by data rows."
        ) from None

    if header and header[0].startswith(("\udcff\udcfe", "\udcfe\udcff")):
        raise ExportFormatError(
            "The export is encoded as UTF-16, expected UTF-8; save it again as "
            "'CSV UTF-8 (comma delimited)'."
        )

    by_key: dict[str, str] = {_header_key(name): name for name in EXPECTED_COLUMNS}
    columns: dict[str, int] = {}
    unexpected: list[str] = []
    for index, raw_name in enumerate(header):
        canonical = by_key.get(_header_key(raw_name))
        if canonical is None:
            unexpected.append(raw_name)
            continue
        if canonical in columns:
            raise ExportFormatError(
                f"The export header repeats the column {canonical!r}, expected "
                "each column once; remove the duplicate column."
            )
        columns[canonical] = index

    missing = tuple(name for name in REQUIRED_COLUMNS if name not in columns)
    if missing:
        message = (
            f"The export header lacks the columns {', '.join(missing)}, expected "
            f"an ESR team export with the header {','.join(EXPECTED_COLUMNS)!r}"
        )
        if unexpected:
            message += f"; the unrecognised columns were {unexpected!r}"
        raise ExportFormatError(message + ".", missing_columns=missing)

    if unexpected:
        logger.debug("Ignoring %d unrecognised export columns", len(unexpected))
    return _Header(columns=columns, field_count=len(header))


def _records(
    text: io.TextIOWrapper,
    reader: "CsvReader",
    header: _Header,
    rules: "_RowRules",
    owns_stream: bool,
) -> Generator[ExportRow | RowError, None, None]:
    try:
        while True:
            start_line = reader.line_num + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield RowError(
                    line=start_line,
                    column=None,
                    value="",
                    reason=(
                        f"The record could not be read as CSV ({error}), expected "
                        "fields of normal size with balanced quotes."
                    ),
                )
                continue

            if not any(value.strip() for value in fields):
                continue

            try:
                yield _parse_record(fields, header, start_line, rules)
            except _RowRejected as rejected:
                reason = rejected.reason
                if reader.line_num > start_line:
                    # A quote left open swallows the following lines into one
                    # field, so a broken record that spans lines gets a hint.
                    reason = (
                        f"{reason[:-1]} (the record runs on to line "
                        f"{reader.line_num}, which suggests an unclosed quote)."
                    )
                yield RowError(
                    line=start_line,
                    column=rejected.column,
                    value=rejected.value,
                    reason=reason,
                )
    finally:
        _release(text, owns_stream)


def _parse_record(
    fields: list[str],
    header: _Header,
    start_line: int,
    rules: "_RowRules",
) -> ExportRow:
    if len(fields) != header.field_count:
        raise _RowRejected(
            None,
            "",
            f"The record has {len(fields)} fields but the header has "
            f"{header.field_count}, expected one value per column.",
        )

    for name, index in header.columns.items():
        if _UNDECODABLE.search(fields[index]):
            raise _RowRejected(
                name,
                _printable(fields[index]),
                "The value contains bytes that are not valid UTF-8, expected the "
                "export to be saved as 'CSV UTF-8'.",
            )

    def cell(name: str) -> str:
        return fields[header.columns[name]]

    employee_number = cell(EMPLOYEE_NUMBER).strip()
    if not employee_number.isascii() or not employee_number.isdigit():
        raise _RowRejected(
            EMPLOYEE_NUMBER,
            cell(EMPLOYEE_NUMBER),
            "The employee number is blank or not all digits, expected the ESR "
            "employee number such as 99001234.",
        )

    try:
        display_name = parse_display_name(cell(FULL_NAME))
    except ValueError as error:
        raise _RowRejected(FULL_NAME, cell(FULL_NAME), str(error)) from None

    subject = _parse_competence(cell(COMPETENCE_NAME), rules.local_competences)
    status = _parse_status(cell(COMPETENCE_STATUS))

    achievement_text = cell(ACHIEVEMENT_DATE)
    if not achievement_text.strip():
        raise _RowRejected(
            ACHIEVEMENT_DATE,
            achievement_text,
            "The achievement date is blank, expected the date the competence was "
            "completed.",
        )
    achievement_date = _parse_date_cell(ACHIEVEMENT_DATE, achievement_text)
    as_of = rules.as_of
    if as_of is not None and achievement_date > as_of:
        raise _RowRejected(
            ACHIEVEMENT_DATE,
            achievement_text,
            f"The achievement date is after the import date {as_of.isoformat()}, "
            "expected a completion that has already happened.",
        )

    expiry_text = cell(EXPIRY_DATE)
    expiry_date = None
    if expiry_text.strip():
        expiry_date = _parse_date_cell(EXPIRY_DATE, expiry_text)

    expected_expiry = subject.refresher_due(achievement_date)
    return ExportRow(
        line=start_line,
        employee_number=employee_number,
        display_name=display_name,
        subject=subject,
        status=status,
        achievement_date=achievement_date,
        expiry_date=expiry_date,
        expected_expiry=expected_expiry,
        expiry_disagrees=expiry_date is not None and expiry_date != expected_expiry,
    )


def _parse_competence(value: str, local_competences: Mapping[str, Subject]) -> Subject:
    if is_local_competence(value):
        mapped = local_competences.get(competence_key(value))
        if mapped is not None:
            return mapped
        raise _RowRejected(
            COMPETENCE_NAME,
            value,
            "The competence is a local one with no CSTF equivalent in this "
            "organisation's table, expected a national name such as "
            "'NHS|CSTF|Fire Safety - 2 Years|' or a local name mapped with "
            "'passport orgs map-competence'.",
        )
    subject = lookup_competence(value)
    if subject is None:
        raise _RowRejected(
            COMPETENCE_NAME,
            value,
            "The competence is not a CSTF (England) national competence, expected "
            "a name such as 'NHS|CSTF|Fire Safety - 2 Years|'.",
        )
    return subject


def _parse_status(value: str) -> str:
    key = " ".join(value.split()).casefold()
    if key == NOT_ACHIEVED.casefold():
        raise _RowRejected(
            COMPETENCE_STATUS,
            value,
            "The competence status Not Achieved records no completion, expected "
            "Meets Requirement, Expiring or Expired.",
        )
    for status in ACCEPTED_STATUSES:
        if key == status.casefold():
            return status
    raise _RowRejected(
        COMPETENCE_STATUS,
        value,
        "The competence status is not recognised, expected Meets Requirement, "
        "Expiring or Expired.",
    )


def _parse_date_cell(column: str, value: str) -> date:
    try:
        return parse_export_date(value)
    except ValueError as error:
        raise _RowRejected(column, value, str(error)) from None


def _calendar_date(year: int, month: int, day: int) -> date:
    if not 1 <= month <= 12:
        raise ValueError(
            f"Month {month} does not exist, expected 1 to 12 with the day first "
            "as in DD/MM/YYYY."
        )
    days_in_month = calendar.monthrange(year, month)[1]
    if not 1 <= day <= days_in_month:
        raise ValueError(
            f"Day {day} does not exist in {_MONTH_NAMES[month - 1]} {year}, "
            f"expected 1 to {days_in_month}."
        )
    return date(year, month, day)


def _drop_title(words: list[str]) -> list[str]:
    if len(words) > 1 and words[0].rstrip(".").casefold() in _TITLES:
        return words[1:]
    return words


def _header_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _printable(value: str) -> str:
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _release(text: io.TextIOWrapper, owns_stream: bool) -> None:
    if owns_stream:
        text.close()
    else:
        # Detach so that garbage-collecting the wrapper leaves the caller's
        # stream open.
        text.detach()
