"""The platform's append-only, hash-chained audit log.

Every package records its business events here: issuance, status changes,
key rotation and compromise, sign-in failures. This package sits at the
bottom of the import graph with ``keys`` and ``credentials``. It imports
SQLModel but neither Flask nor any feature package, so every package can call
:func:`record_event` inside its own transaction.
"""

from audit.log import (
    GENESIS_HASH,
    AuditProblem,
    ChainReport,
    recent_entries,
    record_event,
    verify_chain,
)
from audit.models import AuditEntry, AuditHead

__all__ = [
    "GENESIS_HASH",
    "AuditEntry",
    "AuditHead",
    "AuditProblem",
    "ChainReport",
    "recent_entries",
    "record_event",
    "verify_chain",
]
