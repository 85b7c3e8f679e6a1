"""Exceptions of the leadership programmes package.

::

    ProgrammeError               a request the programme cannot carry out
    ├── FrameworkInvalid         a framework breaks its schema or its rules
    ├── NotFound                 no cohort, enrolment, competency or evidence
    ├── SignOffRejected          a sign-off, return or withdrawal that may not happen
    ├── EvidenceRejected         evidence of the wrong type, size or content
    └── PriorLearningRejected    a credential that cannot count as prior learning

Each message names the value and what to do instead, so the CLI and the
pages show it as it is.
"""

from workflows.errors import count_errors


class ProgrammeError(Exception):
    """A request the programme cannot carry out as given."""


class FrameworkInvalid(ProgrammeError):
    """A framework breaks its schema or its own rules; ``errors`` lists each."""

    def __init__(self, errors: list[str], *, source: str = "framework") -> None:
        self.errors = errors
        listing = "\n".join(f"  {error}" for error in errors)
        super().__init__(f"{source} is invalid ({count_errors(errors)}):\n{listing}")


class NotFound(ProgrammeError):
    """No cohort, enrolment, competency or evidence item has the given id."""


class SignOffRejected(ProgrammeError):
    """A sign-off, return or withdrawal that the rule or the signer's role forbids."""


class EvidenceRejected(ProgrammeError):
    """Evidence refused before it was stored: type, size or content."""


class PriorLearningRejected(ProgrammeError):
    """A credential that does not verify or does not match the learner."""
