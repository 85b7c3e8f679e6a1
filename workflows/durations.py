"""ISO 8601 durations as used in definitions (``PT6H``, ``P7D``, ``P1W``).

Years and months are rejected because their length in seconds depends on
the calendar, which would make repeats drift.
"""

import re
from datetime import timedelta

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def is_duration(text: object) -> bool:
    """Return whether ``text`` is an ISO 8601 duration of weeks to seconds."""
    return isinstance(text, str) and _DURATION.match(text) is not None


def parse_duration(text: str) -> timedelta:
    """Parse an ISO 8601 duration such as ``PT6H`` or ``P7D``.

    :raises ValueError: when ``text`` is not a duration of weeks to seconds.
    """
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(
            f"expected an ISO 8601 duration such as 'PT6H' or 'P7D', got {text!r}"
        )
    parts = {name: float(value) for name, value in match.groupdict().items() if value}
    return timedelta(**parts)
