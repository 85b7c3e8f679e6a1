"""XSD dateTimeStamp parsing for validity checks.

Values keep the exact text that was signed. They are parsed only to be
compared as instants, so ``2025-06-01T08:00:00+01:00`` is earlier than
``2025-06-01T03:00:00-06:00`` although it sorts later as a string.
"""

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

from credentials.errors import InvalidDateTime

# XSD dateTimeStamp: a dateTime whose time zone is required. Years have at
# least four digits; fractional seconds may have any number of digits.
_DATE_TIME_STAMP = re.compile(
    r"(?P<year>-?\d{4,})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"T(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})(?P<fraction>\.\d+)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})"
)


def parse_date_time_stamp(value: object, *, field: str = "value") -> datetime:
    """Parse an XSD dateTimeStamp into an aware UTC :class:`datetime`.

    ``24:00:00`` (end of day) is accepted as the next midnight. Fractional
    seconds beyond microseconds are truncated, which only matters for
    instants less than a microsecond apart.

    :param field: the field name used in error messages.
    :raises InvalidDateTime: if ``value`` is not a string of that form, lacks a
        time zone, or names a day, hour or offset that does not exist.
    """
    if not isinstance(value, str):
        raise InvalidDateTime(
            f"{field} {value!r} is not a string; expected an XSD dateTimeStamp "
            "such as '2025-03-14T09:30:00Z'."
        )
    return _parse_text(value, field)


# One verification reads the same few stamps several times (the proof's
# ``created``, ``validFrom``, ``validUntil``), and a verifier parses the
# same issue dates again and again. Results are immutable datetimes, and
# errors are not cached.
@lru_cache(maxsize=4096)
def _parse_text(value: str, field: str) -> datetime:
    match = _DATE_TIME_STAMP.fullmatch(value)
    if match is None:
        raise InvalidDateTime(
            f"{field} {value!r} is not an XSD dateTimeStamp; expected a form "
            "such as '2025-03-14T09:30:00Z' with a time zone ('Z' or '+01:00')."
        )
    parts = match.groupdict()
    zone = parts["zone"]
    if zone == "Z":
        offset = timedelta(0)
    else:
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 14 or minutes > 59 or (hours == 14 and minutes):
            raise InvalidDateTime(
                f"{field} {value!r} has time zone offset {zone!r}; offsets run "
                "from -14:00 to +14:00."
            )
        offset = timedelta(hours=hours, minutes=minutes)
        if zone[0] == "-":
            offset = -offset
    hour = int(parts["hour"])
    end_of_day = hour == 24
    if end_of_day:
        if (
            parts["minute"] != "00"
            or parts["second"] != "00"
            or (parts["fraction"] and int(parts["fraction"][1:]) != 0)
        ):
            raise InvalidDateTime(
                f"{field} {value!r} uses hour 24 with non-zero minutes or "
                "seconds; only '24:00:00' is allowed."
            )
        hour = 0
    fraction = parts["fraction"] or ""
    microsecond = int((fraction[1:] + "000000")[:6]) if fraction else 0
    try:
        instant = datetime(
            int(parts["year"]),
            int(parts["month"]),
            int(parts["day"]),
            hour,
            int(parts["minute"]),
            int(parts["second"]),
            microsecond,
            tzinfo=timezone(offset),
        )
    except ValueError as error:
        raise InvalidDateTime(
            f"{field} {value!r} is not a real date and time ({error})."
        ) from error
    if end_of_day:
        instant += timedelta(days=1)
    return instant.astimezone(UTC)


def format_date_time_stamp(instant: datetime) -> str:
    """Render an aware instant as ``YYYY-MM-DDTHH:MM:SSZ`` (whole seconds, UTC).

    Use it only to create new values such as a proof's ``created``; stored
    values are never re-rendered.
    """
    if instant.tzinfo is None:
        raise ValueError(f"Instant {instant!r} has no time zone; pass an aware one.")
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
