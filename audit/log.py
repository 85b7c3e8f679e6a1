"""Appending events to the audit log and verifying its hash chain.

Each entry's hash covers its own fields and the previous entry's hash, so an
entry that is changed, inserted or deleted breaks the chain at that point,
and :func:`verify_chain` names it. The head row records the last sequence
number and hash, so entries deleted from the end are found too.

The tables also refuse ``UPDATE`` and ``DELETE`` through database triggers
(created by the migration), so only someone able to drop a trigger can
change the log at all.

NOTE: someone who can rewrite every entry and the head consistently is
caught only by comparing the head hash with a copy kept outside the
database. ``passport audit verify`` prints the head hash for that purpose.
"""

import getpass
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from audit.models import AuditEntry, AuditHead

GENESIS_HASH = "0" * 64
"""The ``previous_hash`` of the first entry."""

# Verification reads the log in pages of this many entries, so its memory
# does not grow with the log.
_PAGE_SIZE = 1000
# A report lists at most this many problems; one broken link usually
# explains the rest.
_MAX_PROBLEMS = 100


@dataclass(frozen=True)
class Event:
    """An event waiting to be appended by :func:`record_events`."""

    action: str
    actor: str
    organisation: str | None = None
    target: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditProblem:
    """A break in the chain: the entry where it shows and what is wrong."""

    sequence: int
    message: str


@dataclass
class ChainReport:
    """The outcome of :func:`verify_chain`."""

    entries_checked: int = 0
    head_sequence: int = 0
    head_hash: str = GENESIS_HASH
    problems: list[AuditProblem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """Whether every entry is present, unchanged and in order."""
        return not self.problems


def command_line_actor() -> str:
    """Return the actor name for the operating-system user running a command."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"cli:{user}"


def format_timestamp(moment: datetime) -> str:
    """Return the UTC text an entry stores, such as 2026-04-01T09:30:00.000001Z."""
    if moment.tzinfo is None:
        raise ValueError(
            f"Audit timestamps must be timezone-aware, not {moment!r}; pass a "
            "datetime with tzinfo=UTC."
        )
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    """Return ``value`` as sorted, compact JSON text, the form that is hashed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(entry: AuditEntry) -> str:
    """Return the SHA-256 hex digest that ``entry`` should carry."""
    payload = {
        "sequence": entry.sequence,
        "recorded_at": entry.recorded_at,
        "actor": entry.actor,
        "action": entry.action,
        "organisation": entry.organisation,
        "target": entry.target,
        "details": entry.details,
        "previous_hash": entry.previous_hash,
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def record_event(
    session: Session,
    action: str,
    *,
    actor: str,
    organisation: str | None = None,
    target: str | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one event to the log in the caller's transaction.

    The caller commits; if the transaction rolls back, the entry goes with
    it, so the log records exactly what was committed.

    :param action: a dotted name such as ``credential.revoked``.
    :param actor: who acted: ``account:<id>``, ``api-token:<id>``,
        ``cli:<user>`` or ``system``.
    :param organisation: the slug of the organisation concerned, if any.
    :param target: the id of the thing acted on, such as a credential id.
    :param details: JSON-compatible ids and reasons; never personal data.
    :raises TypeError: if ``details`` is not JSON-compatible.
    """
    event = Event(action, actor, organisation, target, details or {})
    return record_events(session, [event], at=at)[0]


def record_events(
    session: Session, events: Sequence[Event], *, at: datetime | None = None
) -> list[AuditEntry]:
    """Append several events at once, in order, in the caller's transaction.

    One head update covers the whole batch, which is what a bulk import
    uses to record one entry per credential cheaply.
    """
    if not events:
        return []
    recorded_at = format_timestamp(at or datetime.now(UTC))
    details = [canonical_json(event.details) for event in events]

    # Updating the head first takes the write lock (SQLite) or the row lock
    # (PostgreSQL) before the head is read, so concurrent writers queue here
    # and each reads the hash its predecessor committed.
    result = session.execute(
        update(AuditHead)
        .where(col(AuditHead.id) == 1)
        .values(sequence=AuditHead.sequence + len(events))
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise RuntimeError(
            "The audit_head row is missing; run 'passport init' to apply the "
            "audit log migration."
        )
    head_sequence, head_hash = session.execute(
        select(AuditHead.sequence, AuditHead.entry_hash).where(AuditHead.id == 1)
    ).one()
    sequence = head_sequence - len(events)

    entries = []
    previous = head_hash
    for event, detail_text in zip(events, details, strict=True):
        sequence += 1
        entry = AuditEntry(
            sequence=sequence,
            recorded_at=recorded_at,
            actor=event.actor,
            action=event.action,
            organisation=event.organisation,
            target=event.target,
            details=detail_text,
            previous_hash=previous,
            entry_hash="",
        )
        entry.entry_hash = entry_hash(entry)
        previous = entry.entry_hash
        entries.append(entry)
    session.add_all(entries)
    session.execute(
        update(AuditHead).where(col(AuditHead.id) == 1).values(entry_hash=previous)
    )
    session.flush()
    return entries


def verify_chain(session: Session) -> ChainReport:
    """Check every entry against its hash, its predecessor and the head.

    Reads the log in pages, so memory stays flat however long it is.
    """
    report = ChainReport()
    head = session.get(AuditHead, 1)
    if head is None:
        report.problems.append(
            AuditProblem(0, "The audit_head row is missing, so the log has no head.")
        )
        return report
    report.head_sequence = head.sequence
    report.head_hash = head.entry_hash

    expected_sequence = 1
    previous_hash = GENESIS_HASH
    for entry in _entries_in_order(session):
        report.entries_checked += 1
        _check_entry(report, entry, expected_sequence, previous_hash)
        expected_sequence = entry.sequence + 1
        previous_hash = entry.entry_hash
        if len(report.problems) >= _MAX_PROBLEMS:
            return report

    last_sequence = expected_sequence - 1
    if last_sequence < head.sequence:
        report.problems.append(
            AuditProblem(
                last_sequence + 1,
                f"Entries {last_sequence + 1} to {head.sequence} are missing: the "
                f"head records {head.sequence} entries but the log ends at "
                f"{last_sequence}.",
            )
        )
    elif last_sequence > head.sequence:
        report.problems.append(
            AuditProblem(
                head.sequence + 1,
                f"Entries after {head.sequence} were added outside the audit "
                f"log: the log ends at {last_sequence}.",
            )
        )
    elif previous_hash != head.entry_hash:
        report.problems.append(
            AuditProblem(
                last_sequence,
                f"The last entry's hash {previous_hash[:12]}... differs from the "
                f"head's {head.entry_hash[:12]}...: the end of the log was "
                "replaced.",
            )
        )
    return report


def _check_entry(
    report: ChainReport, entry: AuditEntry, expected_sequence: int, previous: str
) -> None:
    if entry.sequence != expected_sequence:
        missing = (
            f"entry {expected_sequence}"
            if entry.sequence == expected_sequence + 1
            else f"entries {expected_sequence} to {entry.sequence - 1}"
        )
        report.problems.append(
            AuditProblem(
                expected_sequence,
                f"The log jumps from entry {expected_sequence - 1} to "
                f"{entry.sequence}: {missing} deleted.",
            )
        )
    elif entry.previous_hash != previous:
        report.problems.append(
            AuditProblem(
                entry.sequence,
                f"Entry {entry.sequence} does not follow from entry "
                f"{entry.sequence - 1}: its previous_hash does not match, so "
                "the earlier entry was changed or replaced.",
            )
        )
    if entry_hash(entry) != entry.entry_hash:
        report.problems.append(
            AuditProblem(
                entry.sequence,
                f"Entry {entry.sequence} ({entry.action}) was changed after it "
                "was recorded: its content does not match its hash.",
            )
        )


def _entries_in_order(session: Session) -> Iterable[AuditEntry]:
    last = 0
    while True:
        page = list(
            session.exec(
                select(AuditEntry)
                .where(AuditEntry.sequence > last)
                .order_by(col(AuditEntry.sequence))
                .limit(_PAGE_SIZE)
            )
        )
        if not page:
            return
        yield from page
        last = page[-1].sequence


def recent_entries(
    session: Session,
    *,
    limit: int = 50,
    before: int | None = None,
    organisation: str | None = None,
    action: str | None = None,
) -> list[AuditEntry]:
    """Return up to ``limit`` entries, newest first.

    :param before: return entries with a smaller sequence number (paging).
    :param organisation: only entries about this organisation slug.
    :param action: only entries whose action starts with this text, such as
        ``credential.`` or ``key.rotated``.
    """
    statement = select(AuditEntry).order_by(col(AuditEntry.sequence).desc())
    if before is not None:
        statement = statement.where(AuditEntry.sequence < before)
    if organisation is not None:
        statement = statement.where(AuditEntry.organisation == organisation)
    if action:
        statement = statement.where(col(AuditEntry.action).startswith(action))
    return list(session.exec(statement.limit(limit)))


def entry_details(entry: AuditEntry) -> dict[str, Any]:
    """Return an entry's details as parsed JSON."""
    parsed: dict[str, Any] = json.loads(entry.details)
    return parsed
