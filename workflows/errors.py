"""Exceptions of the workflow engine.

::

    WorkflowError
    ├── DefinitionInvalid      a definition breaks the schema or its own rules
    ├── DefinitionConflict     a published id and version with other content
    ├── DefinitionNotFound
    ├── InstanceNotFound
    ├── TaskNotFound
    ├── TaskNotOpen            completing or claiming a finished task
    ├── FormInvalid            recorded values outside a field's type or range
    ├── ExpressionFailed       a condition failed to compile or evaluate
    ├── NotPermitted           the account holds no role that the task needs
    ├── MigrationRefused       an instance cannot move to the new version
    └── ConcurrentChange       another transaction changed the instance first
"""


def count_errors(errors: list[str]) -> str:
    """Return ``"1 error"`` or ``"N errors"`` for a list of error messages."""
    return f"{len(errors)} error" if len(errors) == 1 else f"{len(errors)} errors"


class WorkflowError(Exception):
    """Base class of every error the workflow engine raises."""


class DefinitionInvalid(WorkflowError):
    """A definition breaks the schema or its own rules; ``errors`` lists each."""

    def __init__(self, errors: list[str], *, source: str = "definition") -> None:
        self.errors = errors
        listing = "\n".join(f"  {error}" for error in errors)
        super().__init__(f"{source} is invalid ({count_errors(errors)}):\n{listing}")


class DefinitionConflict(WorkflowError):
    """A published definition id and version already has different content."""


class DefinitionNotFound(WorkflowError):
    """No published definition has the requested id and version."""


class InstanceNotFound(WorkflowError):
    """No instance has the requested id."""


class TaskNotFound(WorkflowError):
    """No open or closed task has the requested id."""


class TaskNotOpen(WorkflowError):
    """The task is already completed or cancelled."""


class FormInvalid(WorkflowError):
    """Recorded values break the form; ``errors`` names each field and range."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors))


class ExpressionFailed(WorkflowError):
    """A condition or score expression failed to compile or to evaluate."""


class NotPermitted(WorkflowError):
    """The account has no membership with the role the task is routed to."""


class MigrationRefused(WorkflowError):
    """An instance cannot move to another definition version as requested."""


class ConcurrentChange(WorkflowError):
    """Another transaction changed the instance first; the caller retries."""
