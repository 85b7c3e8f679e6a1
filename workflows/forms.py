"""Validating the values recorded on a task's form."""

import math
from typing import Any

from workflows.errors import FormInvalid


def validate_form(form: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Check ``values`` against the form's typed fields and ranges.

    Numbers posted as text (from an HTML form) are converted. Unknown fields
    are rejected so that a typo never loses a value silently.

    :returns: the values converted to their field types.
    :raises FormInvalid: naming every field that is missing, of the wrong
        type or outside its range.
    """
    fields = {field["id"]: field for field in form["fields"]}
    errors: list[str] = []
    cleaned: dict[str, Any] = {}

    for name in sorted(set(values) - set(fields)):
        errors.append(f"field {name!r} is not on this form; expected {sorted(fields)}")
    for name, field in fields.items():
        raw = values.get(name)
        if raw is None or raw == "":
            if field.get("required", True):
                errors.append(f"field {name!r} is required")
            continue
        try:
            cleaned[name] = _convert(field, raw)
        except ValueError as error:
            errors.append(f"field {name!r}: {error}")
    if errors:
        raise FormInvalid(errors)
    return cleaned


def _convert(field: dict[str, Any], raw: Any) -> Any:
    kind = field["type"]
    if kind == "boolean":
        return _to_boolean(raw)
    if kind == "choice":
        if raw not in field["options"]:
            raise ValueError(f"{raw!r} is not one of {field['options']}")
        return raw
    if kind == "text":
        if not isinstance(raw, str):
            raise ValueError(f"expected text, got {raw!r}")
        limit = field.get("maxLength", 500)
        if len(raw) > limit:
            raise ValueError(f"text of {len(raw)} characters is longer than {limit}")
        return raw
    number = _to_number(raw, integer=kind == "integer")
    allowed = field.get("allowed")
    if allowed is not None and number not in allowed:
        choices = ", ".join(_bound(value) for value in allowed)
        raise ValueError(f"{number!r} is not one of the allowed values {choices}")
    low, high = field.get("minimum"), field.get("maximum")
    if (low is not None and number < low) or (high is not None and number > high):
        raise ValueError(
            f"{number!r} is outside the range {_bound(low)} to {_bound(high)}"
        )
    return number


def _to_boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in ("true", "yes", "on", "1"):
        return True
    if isinstance(raw, str) and raw.lower() in ("false", "no", "off", "0"):
        return False
    raise ValueError(f"expected yes or no, got {raw!r}")


def _to_number(raw: Any, *, integer: bool) -> int | float:
    if isinstance(raw, bool):
        raise ValueError(f"expected a number, got {raw!r}")
    try:
        number = float(raw) if not isinstance(raw, int | float) else raw
    except (TypeError, ValueError):
        raise ValueError(f"expected a number, got {raw!r}") from None
    try:
        # An integer beyond the float range raises here, as JSON allows one.
        finite = math.isfinite(number)
    except OverflowError:
        finite = False
    if not finite:
        raise ValueError(f"expected a finite number, got {_shorten(raw)}")
    if integer:
        if float(number) != int(number):
            raise ValueError(f"expected a whole number, got {raw!r}")
        return int(number)
    return number


def _shorten(raw: Any) -> str:
    text = repr(raw)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _bound(value: float | None) -> str:
    if value is None:
        return "unbounded"
    return str(int(value)) if float(value).is_integer() else str(value)
