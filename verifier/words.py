"""Values from credentials in the words HR reads.

Credentials state instants as XML Schema ``dateTimeStamp`` text and periods
as ISO 8601 durations (``P3Y``). Check messages and the claims table show
them as "4 November 2029" and "3 years", and check messages keep the signed
text beside a date. Text that does not parse is returned unchanged.
"""

import re
from datetime import date
from functools import lru_cache

from credentials.datetimes import parse_date_time_stamp
from credentials.errors import CredentialError

# Data Integrity proof purposes, as the pages name them.
PURPOSE_WORDS = {
    "assertionMethod": "signing credentials",
    "authentication": "proving who the holder is",
}

_DURATION = re.compile(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?")
_UNITS = ("year", "month", "week", "day")


def spoken_date(value: date) -> str:
    """Return a date as "4 November 2029"."""
    return f"{value.day} {value:%B %Y}"


# Every verification message includes its validity dates, and a verifier
# formats the same few issue and expiry stamps again and again.
@lru_cache(maxsize=4096)
def spoken_instant(text: str) -> str:
    """Return a ``dateTimeStamp`` as "4 November 2029", with the time of
    day in UTC when it is not midnight, or ``text`` if it does not parse."""
    try:
        instant = parse_date_time_stamp(text)
    except CredentialError:
        return text
    words = spoken_date(instant.date())
    if (instant.hour, instant.minute, instant.second) != (0, 0, 0):
        words += f" at {instant:%H:%M} UTC"
    return words


def spoken_day(text: str) -> str:
    """Return an ISO date such as ``2026-11-04`` as "4 November 2026", or
    ``text`` if it is not one."""
    try:
        return spoken_date(date.fromisoformat(text))
    except ValueError:
        return text


def spoken_duration(text: str) -> str:
    """Return an ISO 8601 duration of years, months, weeks and days, such as
    ``P3Y`` or ``P1Y6M``, as "3 years" or "1 year 6 months", or ``text``
    for any other form."""
    match = _DURATION.fullmatch(text)
    if match is None or not any(match.groups()):
        return text
    parts = []
    for amount, unit in zip(match.groups(), _UNITS, strict=True):
        if amount is not None:
            number = int(amount)
            parts.append(f"{number} {unit}" + ("" if number == 1 else "s"))
    return " ".join(parts)


def purpose_words(purpose: str) -> str:
    """Return a proof purpose in words, with its name in brackets."""
    words = PURPOSE_WORDS.get(purpose)
    return f"{words} ({purpose})" if words else purpose
