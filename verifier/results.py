"""Verification results: one check per rule, in a fixed order."""

from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

Severity = Literal["error", "warning"]

_new_tuple = tuple.__new__


class Check(NamedTuple):
    """The outcome of one verification rule, in plain words.

    A failed check of severity ``"warning"`` is reported but does not make
    the document unverified. ``reason`` is a short code for programs that
    need more than passed or failed, such as ``"revoked"`` or
    ``"suspended"`` on the ``status`` check; most checks leave it empty.

    A named tuple rather than a frozen dataclass: every verification makes
    at least nine, and a tuple is built in a third of the time.
    """

    id: str
    passed: bool
    message: str
    severity: Severity = "error"
    reason: str = ""

    @property
    def outcome(self) -> Literal["pass", "warn", "fail"]:
        """``"pass"``, ``"warn"`` for a failed warning, or ``"fail"``."""
        if self.passed:
            return "pass"
        return "warn" if self.severity == "warning" else "fail"

    def to_json(self) -> dict[str, Any]:
        """Return the check as ``{"id", "passed", "message", "severity"}``,
        plus ``"reason"`` when it is set."""
        output: dict[str, Any] = {
            "id": self.id,
            "passed": self.passed,
            "message": self.message,
            "severity": self.severity,
        }
        if self.reason:
            output["reason"] = self.reason
        return output


@dataclass
class VerificationResult:
    """The checks of one credential or presentation.

    ``credentials`` holds the result of each credential inside a
    presentation, in the order they appear.
    """

    checks: list[Check] = field(default_factory=list)
    credentials: list["VerificationResult"] = field(default_factory=list)
    document: dict[str, Any] | None = None

    @property
    def verified(self) -> bool:
        """Whether every error-severity check passed, nested ones included."""
        own = all(c.passed for c in self.checks if c.severity == "error")
        return own and bool(self.checks) and all(r.verified for r in self.credentials)

    def add(
        self,
        id: str,
        passed: bool,
        message: str,
        severity: Severity = "error",
        reason: str = "",
    ) -> None:
        """Append a check."""
        # tuple.__new__ builds the named tuple without its Python-level
        # constructor, which doubles the cost of a check.
        self.checks.append(_new_tuple(Check, (id, passed, message, severity, reason)))

    def insert_after(self, id: str, check: Check) -> None:
        """Insert ``check`` right after the check with ``id`` (at the end if
        there is none)."""
        for position, existing in enumerate(self.checks):
            if existing.id == id:
                self.checks.insert(position + 1, check)
                return
        self.checks.append(check)

    def check(self, id: str) -> Check:
        """Return the check with ``id``.

        :raises KeyError: if no check has that id.
        """
        for check in self.checks:
            if check.id == id:
                return check
        raise KeyError(id)

    def to_json(self) -> dict[str, Any]:
        """Return ``{"verified", "checks"}``, plus ``"credentials"`` if any."""
        output: dict[str, Any] = {
            "verified": self.verified,
            "checks": [check.to_json() for check in self.checks],
        }
        if self.credentials:
            output["credentials"] = [r.to_json() for r in self.credentials]
        return output
