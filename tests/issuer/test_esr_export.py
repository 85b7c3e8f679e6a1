import csv
import dataclasses
import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest

from issuer.esr_export import (
    EXPECTED_COLUMNS,
    ExportFormatError,
    ExportRow,
    RowError,
    parse_display_name,
    parse_export_date,
    read_export,
)

AS_OF = date(2026, 3, 31)
FIRE = "NHS|CSTF|Fire Safety - 2 Years|"

DEFAULTS = {
    "Employee Number": "99000001",
    "Assignment Number": "99000001-1",
    "Full Name": "TESTER, Robin",
    "Organisation": "901 Elderly Care Ward 7",
    "Position Title": "Staff Nurse, Band 5",
    "Staff Group": "Nursing and Midwifery Registered",
    "Competence Name": FIRE,
    "Competence Status": "Meets Requirement",
    "Achievement Date": "14-Feb-2025",
    "Expiry Date": "14-Feb-2027",
    "Learning Source": "e-Learning",
    "Last Updated By": "A01|SAMPLE, Morgan",
    "VPD": "901",
}


def record(**overrides: str) -> list[str]:
    """Return one data record with the default values, keyed by column name."""
    values = dict(DEFAULTS)
    for key, value in overrides.items():
        values[key.replace("_", " ")] = value
    return [values[column] for column in EXPECTED_COLUMNS]


def export(
    *records: Sequence[str],
    header: Sequence[str] = EXPECTED_COLUMNS,
    bom: bool = True,
    line_ending: str = "\r\n",
) -> bytes:
    """Write an export the way Excel does, by default with a BOM and CRLF."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=line_ending)
    writer.writerow(header)
    writer.writerows(records)
    prefix = "\ufeff" if bom else ""
    return (prefix + buffer.getvalue()).encode("utf-8")


def read(data: bytes, as_of: date | None = AS_OF) -> list[ExportRow | RowError]:
    return list(read_export(io.BytesIO(data), as_of=as_of))


def read_one(data: bytes, as_of: date | None = AS_OF) -> ExportRow | RowError:
    items = read(data, as_of)
    assert len(items) == 1
    return items[0]


def read_row(data: bytes, as_of: date | None = AS_OF) -> ExportRow:
    item = read_one(data, as_of)
    assert isinstance(item, ExportRow), str(item)
    return item


def read_error(data: bytes, as_of: date | None = AS_OF) -> RowError:
    item = read_one(data, as_of)
    assert isinstance(item, RowError), repr(item)
    return item


# Tolerated layouts


def test_read_export_bom_crlf() -> None:
    row = read_row(export(record()))

    assert row.subject.code == "FS"
    assert row.line == 2


def test_read_export_no_bom_lf() -> None:
    row = read_row(export(record(), bom=False, line_ending="\n"))

    assert row.subject.code == "FS"


def test_read_export_fields_all_quoted() -> None:
    line = ",".join(f'"{value}"' for value in record())
    data = ("\ufeff" + ",".join(EXPECTED_COLUMNS) + "\r\n" + line + "\r\n").encode()

    row = read_row(data)

    assert row.display_name == "Robin TESTER"


def test_read_export_quoted_commas_and_pipes() -> None:
    data = export(
        record(
            Competence_Name="NHS|CSTF|Equality, Diversity and Human Rights - 3 Years|",
            Position_Title="Nurse, Band 5 | Bank",
        )
    )

    row = read_row(data)

    assert row.subject.code == "EDHR"
    assert row.display_name == "Robin TESTER"


def test_read_export_embedded_line_break() -> None:
    data = export(
        record(Position_Title="Staff Nurse\r\nBank"),
        record(Full_Name="SAMPLE, Alex"),
    )

    items = read(data)

    assert [item.line for item in items] == [2, 4]
    assert all(isinstance(item, ExportRow) for item in items)


def test_read_export_columns_reordered() -> None:
    header = list(reversed(EXPECTED_COLUMNS))

    row = read_row(export(list(reversed(record())), header=header))

    assert row.display_name == "Robin TESTER"
    assert row.achievement_date == date(2025, 2, 14)


def test_read_export_extra_column_ignored() -> None:
    data = export(record() + ["free text"], header=[*EXPECTED_COLUMNS, "Comments"])

    row = read_row(data)

    assert row.subject.code == "FS"


def test_read_export_required_columns_only() -> None:
    header = [
        "Employee Number",
        "Full Name",
        "Competence Name",
        "Competence Status",
        "Achievement Date",
        "Expiry Date",
    ]
    values = ["99000001", "TESTER, Robin", FIRE, "Expired", "14-Feb-2023", ""]

    row = read_row(export(values, header=header))

    assert row.status == "Expired"


def test_read_export_header_case_and_spaces() -> None:
    header = [f"  {name.upper()} " for name in EXPECTED_COLUMNS]

    row = read_row(export(record(), header=header))

    assert row.subject.code == "FS"


def test_read_export_blank_lines_skipped() -> None:
    data = export(record(), [""] * len(EXPECTED_COLUMNS), record()) + b"\r\n\r\n"

    items = read(data)

    assert [item.line for item in items] == [2, 4]


def test_read_export_path(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(export(record()))

    items = list(read_export(path, as_of=AS_OF))

    assert isinstance(items[0], ExportRow)


def test_read_export_path_string(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(export(record()))

    items = list(read_export(str(path), as_of=AS_OF))

    assert isinstance(items[0], ExportRow)


def test_read_export_stream_left_open() -> None:
    stream = io.BytesIO(export(record()))

    list(read_export(stream, as_of=AS_OF))

    assert not stream.closed


def test_read_export_is_lazy() -> None:
    data = export(record(), record(Achievement_Date="31-Feb-2025"), record())

    iterator = read_export(io.BytesIO(data), as_of=AS_OF)
    first = next(iterator)

    assert isinstance(first, ExportRow)
    assert first.line == 2


def test_read_export_bad_row_keeps_good_ones() -> None:
    data = export(
        record(),
        record(Achievement_Date="31-Feb-2025"),
        record(Competence_Name="901|LOCAL|Dementia Awareness Tier 1 - 3 Years|"),
        record(Full_Name="SAMPLE, Alex"),
    )

    items = read(data)

    assert [type(item) for item in items] == [ExportRow, RowError, RowError, ExportRow]
    assert [item.line for item in items] == [2, 3, 4, 5]


# Tolerated values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14-Feb-2025", date(2025, 2, 14)),
        ("14-FEB-2025", date(2025, 2, 14)),
        ("14-feb-2025", date(2025, 2, 14)),
        ("4-Feb-2025", date(2025, 2, 4)),
        (" 14-Feb-2025 ", date(2025, 2, 14)),
        ("14/02/2025", date(2025, 2, 14)),
        ("4/2/2025", date(2025, 2, 4)),
        ("03/04/2025", date(2025, 4, 3)),
        ("2025-02-14", date(2025, 2, 14)),
        ("2025-02-14 00:00:00", date(2025, 2, 14)),
        ("2025-02-14T00:00:00", date(2025, 2, 14)),
        ("2025-02-14 00:00", date(2025, 2, 14)),
        ("29-Feb-2024", date(2024, 2, 29)),
        ("29/02/2024", date(2024, 2, 29)),
        ("2024-02-29", date(2024, 2, 29)),
        ("31-Dec-2025", date(2025, 12, 31)),
    ],
)
def test_parse_export_date_accepted(text: str, expected: date) -> None:
    assert parse_export_date(text) == expected


@pytest.mark.parametrize(
    "name",
    [
        "NHS|CSTF|Fire Safety - 2 Years|   ",
        "NHS|CSTF|Fire Safety - 2 Years",
        "nhs|cstf|Fire Safety - 2 Years|",
    ],
)
def test_read_export_competence_variants(name: str) -> None:
    row = read_row(export(record(Competence_Name=name)))

    assert row.subject.code == "FS"


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("Meets Requirement", "Meets Requirement"),
        ("meets requirement", "Meets Requirement"),
        ("Expiring", "Expiring"),
        (" Expired ", "Expired"),
    ],
)
def test_read_export_status_accepted(text: str, status: str) -> None:
    row = read_row(export(record(Competence_Status=text)))

    assert row.status == status


@pytest.mark.parametrize(
    ("full_name", "display_name"),
    [
        ("TESTER, Robin", "Robin TESTER"),
        ("Dr TESTER, Robin", "Robin TESTER"),
        ("Mr SAMPLE, Alex", "Alex SAMPLE"),
        ("Dr. SAMPLE, Alex", "Alex SAMPLE"),
        ("SAMPLE, Dr Alex", "Alex SAMPLE"),
        ("TESTER, Robin Alex", "Robin Alex TESTER"),
        ("DE LA MOCK, Ana", "Ana DE LA MOCK"),
        ("O'DUMMY-SAMPLE, Siân", "Siân O'DUMMY-SAMPLE"),
        ("  TESTER ,   Robin  ", "Robin TESTER"),
        ("MR, Robin", "Robin MR"),
    ],
)
def test_parse_display_name(full_name: str, display_name: str) -> None:
    assert parse_display_name(full_name) == display_name


def test_parse_display_name_nfc() -> None:
    name = parse_display_name("EXAMPLE, Zoe\u0308")

    assert name == "Zo\u00eb EXAMPLE"


def test_read_export_display_name_nfc() -> None:
    row = read_row(export(record(Full_Name="EXAMPLE, Zoe\u0308")))

    assert row.display_name == "Zo\u00eb EXAMPLE"


def test_read_export_employee_number_kept() -> None:
    row = read_row(export(record(Employee_Number=" 99001234 ")))

    assert row.employee_number == "99001234"


def test_read_export_updater_not_learner() -> None:
    row = read_row(export(record(Last_Updated_By="A01|SAMPLE, Morgan")))

    values = " ".join(str(value) for value in dataclasses.asdict(row).values())
    assert row.display_name == "Robin TESTER"
    assert "SAMPLE" not in values
    assert "Morgan" not in values


def test_read_export_blank_name_not_from_updater() -> None:
    error = read_error(export(record(Full_Name="", Last_Updated_By="SAMPLE, Morgan")))

    assert error.column == "Full Name"


def test_export_row_repr_hides_person() -> None:
    row = read_row(export(record()))

    assert "TESTER" not in repr(row)
    assert "99000001" not in repr(row)


# Expiry dates


def test_read_export_expiry_agrees() -> None:
    row = read_row(export(record()))

    assert row.expiry_date == date(2027, 2, 14)
    assert row.expected_expiry == date(2027, 2, 14)
    assert row.expiry_disagrees is False


def test_read_export_expiry_disagrees() -> None:
    row = read_row(export(record(Expiry_Date="14-Feb-2026")))

    assert row.expiry_date == date(2026, 2, 14)
    assert row.expected_expiry == date(2027, 2, 14)
    assert row.expiry_disagrees is True


def test_read_export_expiry_blank() -> None:
    row = read_row(export(record(Expiry_Date="")))

    assert row.expiry_date is None
    assert row.expiry_disagrees is False


def test_read_export_expiry_leap_day() -> None:
    data = export(record(Achievement_Date="29-Feb-2024", Expiry_Date="28-Feb-2026"))

    row = read_row(data)

    assert row.expected_expiry == date(2026, 2, 28)
    assert row.expiry_disagrees is False


def test_read_export_expiry_mixed_formats() -> None:
    data = export(
        record(Achievement_Date="2025-02-14 00:00:00", Expiry_Date="14/02/2027")
    )

    row = read_row(data)

    assert row.achievement_date == date(2025, 2, 14)
    assert row.expiry_disagrees is False


# As-of date


def test_read_export_as_of_same_day() -> None:
    row = read_row(export(record(Achievement_Date="31-Mar-2026")))

    assert row.achievement_date == AS_OF


def test_read_export_as_of_next_day() -> None:
    error = read_error(export(record(Achievement_Date="01-Apr-2026")))

    assert error.line == 2
    assert error.column == "Achievement Date"
    assert error.value == "01-Apr-2026"
    assert "2026-03-31" in error.reason


def test_read_export_as_of_none() -> None:
    row = read_row(export(record(Achievement_Date="01-Apr-2030")), as_of=None)

    assert row.achievement_date == date(2030, 4, 1)


# Rejected rows: each names its line and column


@pytest.mark.parametrize(
    ("overrides", "column", "reason_part"),
    [
        ({"Employee_Number": ""}, "Employee Number", "blank or not all digits"),
        ({"Employee_Number": "99-0001"}, "Employee Number", "not all digits"),
        ({"Employee_Number": "９９０００１"}, "Employee Number", "not all digits"),
        ({"Full_Name": "TESTER, Ro\x07bin"}, "Full Name", "U+0007"),
        ({"Full_Name": "TESTER, Ro\tbin"}, "Full Name", "U+0009"),
        ({"Full_Name": "TESTER, Robin\r\n"}, "Full Name", "U+000D"),
        ({"Full_Name": "TESTER, \u202eRobin"}, "Full Name", "U+202E"),
        ({"Full_Name": "TESTER, Ro\u200bbin"}, "Full Name", "U+200B"),
        ({"Full_Name": "TESTER, Ro\x00bin"}, "Full Name", "U+0000"),
        ({"Full_Name": ""}, "Full Name", "blank"),
        ({"Full_Name": "Robin TESTER"}, "Full Name", "exactly one comma"),
        ({"Full_Name": "TESTER, Robin, Jr"}, "Full Name", "exactly one comma"),
        ({"Full_Name": "TESTER,"}, "Full Name", "lacks a surname or a forename"),
        ({"Full_Name": ", Robin"}, "Full Name", "lacks a surname or a forename"),
        (
            {"Competence_Name": "NHS|CSTF|Fire Safety - 1 Year|"},
            "Competence Name",
            "not a CSTF (England) national competence",
        ),
        (
            {"Competence_Name": "NHS|CSTF|Basket Weaving - 3 Years|"},
            "Competence Name",
            "not a CSTF (England) national competence",
        ),
        ({"Competence_Name": ""}, "Competence Name", "not a CSTF"),
        (
            {"Competence_Name": "901|LOCAL|Mental Capacity Act and DoLS - 3 Years|"},
            "Competence Name",
            "local one",
        ),
        (
            {"Competence_Status": "Not Achieved", "Achievement_Date": ""},
            "Competence Status",
            "Not Achieved records no completion",
        ),
        ({"Competence_Status": "Pending"}, "Competence Status", "not recognised"),
        ({"Competence_Status": ""}, "Competence Status", "not recognised"),
        ({"Achievement_Date": ""}, "Achievement Date", "blank"),
        ({"Achievement_Date": "   "}, "Achievement Date", "blank"),
        ({"Achievement_Date": "14 Feb 2025"}, "Achievement Date", "not a date"),
        ({"Achievement_Date": "14-Fbe-2025"}, "Achievement Date", "'Fbe'"),
        ({"Achievement_Date": "31-Feb-2025"}, "Achievement Date", "Day 31"),
        ({"Achievement_Date": "29-Feb-2025"}, "Achievement Date", "1 to 28"),
        ({"Achievement_Date": "31/04/2025"}, "Achievement Date", "April 2025"),
        ({"Achievement_Date": "00/01/2025"}, "Achievement Date", "Day 0"),
        ({"Achievement_Date": "04/13/2025"}, "Achievement Date", "Month 13"),
        ({"Achievement_Date": "2025-13-01"}, "Achievement Date", "Month 13"),
        ({"Achievement_Date": "14/02/25"}, "Achievement Date", "not a date"),
        ({"Achievement_Date": "2025-02-14 13:45:00"}, "Achievement Date", "time"),
        ({"Achievement_Date": "45702"}, "Achievement Date", "not a date"),
        ({"Achievement_Date": "15-May-2026"}, "Achievement Date", "after"),
        ({"Expiry_Date": "31-Apr-2027"}, "Expiry Date", "April 2027"),
        ({"Expiry_Date": "never"}, "Expiry Date", "not a date"),
    ],
)
def test_read_export_rejects(
    overrides: dict[str, str], column: str, reason_part: str
) -> None:
    data = export(record(), record(**overrides))

    items = read(data)
    error = items[1]

    assert isinstance(items[0], ExportRow)
    assert isinstance(error, RowError)
    assert error.line == 3
    assert error.column == column
    assert error.value == record(**overrides)[EXPECTED_COLUMNS.index(column)]
    assert reason_part in error.reason


def test_read_export_reason_is_one_sentence() -> None:
    error = read_error(export(record(Achievement_Date="31-Feb-2025")))

    assert error.reason.endswith(".")
    assert error.reason.count(". ") == 0
    assert "expected" in error.reason


def test_read_export_missing_field() -> None:
    data = export(record(), record()[:-1])

    error = read(data)[1]

    assert isinstance(error, RowError)
    assert error.line == 3
    assert error.column is None
    assert "12 fields" in error.reason


def test_read_export_extra_field() -> None:
    data = export(record() + ["surplus"])

    error = read_error(data)

    assert error.column is None
    assert "14 fields" in error.reason


def test_read_export_unclosed_quote_at_end() -> None:
    good = export(record()).decode("utf-8-sig")
    data = (good + '99000002,"99000002-1,broken\r\n99000003,x\r\n').encode()

    items = read(data)
    error = items[1]

    assert len(items) == 2
    assert isinstance(error, RowError)
    assert error.line == 3
    assert error.column is None
    assert "runs on to line 4, which suggests an unclosed quote" in error.reason


def test_read_export_unclosed_quote_realigned() -> None:
    good = export(record()).decode("utf-8-sig")
    data = (good + '99000002,"99000002-1,broken\r\n' + good.splitlines()[1]).encode()

    items = read(data)
    error = items[1]

    assert isinstance(error, RowError)
    assert error.line == 3
    assert "runs on to line 4, which suggests an unclosed quote" in error.reason


def test_read_export_invalid_utf8() -> None:
    data = export(record(Full_Name="TESTER, Ren\u00e9e"), record())
    data = data.replace("Ren\u00e9e".encode(), b"Ren\xe9e")

    items = read(data)
    error = items[0]

    assert isinstance(error, RowError)
    assert error.line == 2
    assert error.column == "Full Name"
    assert error.value == "TESTER, Ren\ufffde"
    assert "UTF-8" in error.reason
    assert isinstance(items[1], ExportRow)


def test_read_export_oversized_field() -> None:
    data = export(record(Position_Title="x" * 200_000), record())

    items = read(data)

    assert isinstance(items[0], RowError)
    assert items[0].column is None
    assert "could not be read as CSV" in items[0].reason
    assert isinstance(items[1], ExportRow)


def test_row_error_str() -> None:
    error = RowError(
        line=7, column="Expiry Date", value="31-Apr-2027", reason="Day 31 is wrong."
    )

    assert str(error) == "line 7, Expiry Date '31-Apr-2027': Day 31 is wrong."


def test_row_error_str_whole_record() -> None:
    error = RowError(line=7, column=None, value="", reason="Too few fields.")

    assert str(error) == "line 7: Too few fields."


# Rejected files


def test_read_export_empty_file() -> None:
    with pytest.raises(ExportFormatError, match="empty"):
        read_export(io.BytesIO(b""))


def test_read_export_bom_only() -> None:
    with pytest.raises(ExportFormatError, match="empty"):
        read_export(io.BytesIO(b"\xef\xbb\xbf"))


def test_read_export_missing_columns() -> None:
    header = [name for name in EXPECTED_COLUMNS if name != "Achievement Date"]
    header[header.index("Full Name")] = "Name"

    with pytest.raises(ExportFormatError) as raised:
        read_export(io.BytesIO(export(header=header)))

    assert raised.value.missing_columns == ("Full Name", "Achievement Date")
    assert "Full Name, Achievement Date" in str(raised.value)
    assert "'Name'" in str(raised.value)


def test_read_export_competency_layout() -> None:
    header = [
        "Competency Name",
        "Expiry Date",
        "Date Start",
        "Last Updated By",
        "Title",
        "VPD",
    ]

    with pytest.raises(ExportFormatError) as raised:
        read_export(io.BytesIO(export(header=header)))

    assert raised.value.missing_columns == (
        "Employee Number",
        "Full Name",
        "Competence Name",
        "Competence Status",
        "Achievement Date",
    )


def test_read_export_duplicate_column() -> None:
    header = [*EXPECTED_COLUMNS, "Full Name"]

    with pytest.raises(ExportFormatError, match="repeats the column 'Full Name'"):
        read_export(io.BytesIO(export(header=header)))


def test_read_export_utf16() -> None:
    data = export(record(), bom=False).decode().encode("utf-16")

    with pytest.raises(ExportFormatError, match="UTF-16"):
        read_export(io.BytesIO(data))


def test_read_export_header_error_closes_nothing() -> None:
    stream = io.BytesIO(b"Name,Date\r\n")

    with pytest.raises(ExportFormatError):
        read_export(stream)

    assert not stream.closed
