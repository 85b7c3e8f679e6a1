from datetime import UTC, datetime

import pytest

from credentials.datetimes import format_date_time_stamp, parse_date_time_stamp
from credentials.errors import InvalidDateTime


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-14T09:30:00Z", datetime(2025, 3, 14, 9, 30, tzinfo=UTC)),
        ("2025-06-01T08:00:00+01:00", datetime(2025, 6, 1, 7, 0, tzinfo=UTC)),
        ("2025-06-01T03:00:00-06:00", datetime(2025, 6, 1, 9, 0, tzinfo=UTC)),
        (
            "2025-03-14T09:30:00.123456789Z",
            datetime(2025, 3, 14, 9, 30, 0, 123456, UTC),
        ),
        ("2024-02-29T00:00:00Z", datetime(2024, 2, 29, tzinfo=UTC)),
        # 24:00:00 is the end of the day, that is the next midnight.
        ("2025-12-31T24:00:00Z", datetime(2026, 1, 1, tzinfo=UTC)),
        ("2025-03-30T01:30:00+14:00", datetime(2025, 3, 29, 11, 30, tzinfo=UTC)),
    ],
)
def test_parses_as_utc_instant(text, expected):
    assert parse_date_time_stamp(text) == expected


def test_offsets_compare_as_instants_not_strings():
    earlier = "2025-06-01T08:00:00+01:00"
    later = "2025-06-01T03:00:00-06:00"
    assert later < earlier  # as strings
    assert parse_date_time_stamp(earlier) < parse_date_time_stamp(later)


@pytest.mark.parametrize(
    "text",
    [
        "2025-03-14T09:30:00",  # no time zone
        "2025-03-14",
        "2025-02-30T00:00:00Z",
        "2025-03-14T25:00:00Z",
        "2025-03-14T24:00:01Z",
        "2025-03-14T09:30:00+15:00",
        "2025-03-14 09:30:00Z",
        "2025-3-14T09:30:00Z",
        " 2025-03-14T09:30:00Z",
        "",
    ],
)
def test_invalid_values_rejected(text):
    with pytest.raises(InvalidDateTime, match="validFrom"):
        parse_date_time_stamp(text, field="validFrom")


@pytest.mark.parametrize("value", [None, 20250314, ["2025-03-14T09:30:00Z"]])
def test_non_strings_rejected(value):
    with pytest.raises(InvalidDateTime, match="not a string"):
        parse_date_time_stamp(value)


def test_format_is_whole_seconds_utc():
    instant = datetime(2025, 3, 14, 9, 30, 5, 999999, UTC)
    assert format_date_time_stamp(instant) == "2025-03-14T09:30:05Z"


def test_format_rejects_naive():
    with pytest.raises(ValueError, match="no time zone"):
        format_date_time_stamp(datetime(2025, 3, 14))
