"""The passport report: a shared passport held against a role's requirements.

For each required subject the report picks the best credential that
satisfies it (a higher level satisfies a lower one) and gives one outcome
with its reason:

``accepted``
    verified, trusted for the subject, and valid for more than 90 days;
``expiring-90``, ``expiring-60``, ``expiring-30``
    accepted, but expiring within that many days;
``expired``
    past its ``validUntil``;
``revoked``, ``suspended``
    the issuer's status list says so;
``not-accepted``
    a failed check: signature, key, issuer not trusted for the subject,
    status unreadable, or only a lower level than required;
``missing``
    no credential for the subject at all.

Trust decides acceptance here: an issuer outside the registry, or not
allowed to issue the subject, makes its credentials ``not-accepted`` even
though the pipeline reports it only as a warning.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from credentials.datamodel import as_list
from credentials.datetimes import parse_date_time_stamp
from credentials.errors import CredentialError
from passport.spreadsheets import spreadsheet_row
from verifier.requirements import (
    Profile,
    satisfying_codes,
    subject_title,
    subjects_by_code,
)
from verifier.results import VerificationResult

ACCEPTED = "accepted"
EXPIRING_90 = "expiring-90"
EXPIRING_60 = "expiring-60"
EXPIRING_30 = "expiring-30"
EXPIRED = "expired"
SUSPENDED = "suspended"
REVOKED = "revoked"
NOT_ACCEPTED = "not-accepted"
MISSING = "missing"

# Best first: the report shows the best credential for each requirement.
OUTCOME_ORDER = (
    ACCEPTED,
    EXPIRING_90,
    EXPIRING_60,
    EXPIRING_30,
    EXPIRED,
    SUSPENDED,
    REVOKED,
    NOT_ACCEPTED,
    MISSING,
)
OUTCOME_LABELS = {
    ACCEPTED: "Accepted",
    EXPIRING_90: "Expiring within 90 days",
    EXPIRING_60: "Expiring within 60 days",
    EXPIRING_30: "Expiring within 30 days",
    EXPIRED: "Expired",
    SUSPENDED: "Suspended",
    REVOKED: "Revoked",
    NOT_ACCEPTED: "Not accepted",
    MISSING: "Missing",
}
# Failing one of these means the credential itself cannot be relied on.
INTEGRITY_CHECKS = (
    "well-formed",
    "contexts-allowed",
    "proof",
    "verification-method",
    "key-valid-at-issuance",
)


@dataclass(frozen=True)
class CredentialOutcome:
    """What one verified credential is worth to the report."""

    outcome: str
    reason: str
    subject_code: str | None
    credential_id: str | None
    issuer_name: str
    valid_until: datetime | None


@dataclass(frozen=True)
class ReportRow:
    """One required subject and what the passport offers for it."""

    subject_code: str
    title: str
    outcome: str
    reason: str
    credential_id: str | None = None
    held_code: str | None = None
    issuer_name: str = ""
    expires_on: date | None = None
    days_left: int | None = None

    @property
    def label(self) -> str:
        """The outcome in words."""
        return OUTCOME_LABELS[self.outcome]

    @property
    def acceptable(self) -> bool:
        """Whether the subject can be accepted as held (expiring included)."""
        return self.outcome in (ACCEPTED, EXPIRING_90, EXPIRING_60, EXPIRING_30)


@dataclass
class PassportReport:
    """The rows of one passport against one profile."""

    profile: Profile
    generated_at: datetime
    rows: list[ReportRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Return the number of rows per outcome, in :data:`OUTCOME_ORDER`."""
        return {
            outcome: sum(1 for row in self.rows if row.outcome == outcome)
            for outcome in OUTCOME_ORDER
        }

    def to_csv(self) -> str:
        """Return the report as CSV text with a header row."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(
            [
                "subject_code",
                "subject",
                "outcome",
                "reason",
                "held_code",
                "issuer",
                "expires_on",
                "days_left",
                "credential_id",
            ]
        )
        for row in self.rows:
            writer.writerow(
                spreadsheet_row(
                    [
                        row.subject_code,
                        row.title,
                        row.outcome,
                        row.reason,
                        row.held_code or "",
                        row.issuer_name,
                        row.expires_on.isoformat() if row.expires_on else "",
                        "" if row.days_left is None else row.days_left,
                        row.credential_id or "",
                    ]
                )
            )
        return buffer.getvalue()


def _subject(document: dict[str, Any]) -> dict[str, Any]:
    for subject in as_list(document.get("credentialSubject", [])):
        if isinstance(subject, dict):
            return subject
    return {}


def _issuer_name(document: dict[str, Any]) -> str:
    issuer = document.get("issuer")
    if isinstance(issuer, dict):
        return str(issuer.get("name") or issuer.get("id") or "")
    return str(issuer or "")


def _valid_until(document: dict[str, Any]) -> datetime | None:
    value = document.get("validUntil")
    if not isinstance(value, str):
        return None
    try:
        return parse_date_time_stamp(value)
    except CredentialError:
        return None


def assess_credential(result: VerificationResult, now: datetime) -> CredentialOutcome:
    """Return what one credential's verification result means for the report."""
    document = result.document or {}
    subject = _subject(document)
    code = subject.get("subjectCode")
    outcome = CredentialOutcome(
        outcome=ACCEPTED,
        reason="",
        subject_code=code if isinstance(code, str) else None,
        credential_id=document.get("id")
        if isinstance(document.get("id"), str)
        else None,
        issuer_name=_issuer_name(document),
        valid_until=_valid_until(document),
    )
    checks = {check.id: check for check in result.checks}

    def with_outcome(name: str, reason: str) -> CredentialOutcome:
        return CredentialOutcome(
            name,
            reason,
            outcome.subject_code,
            outcome.credential_id,
            outcome.issuer_name,
            outcome.valid_until,
        )

    for check_id in INTEGRITY_CHECKS:
        check = checks.get(check_id)
        if check is not None and not check.passed:
            return with_outcome(NOT_ACCEPTED, check.message)
    for check_id in ("issuer-known", "issuer-allowed"):
        check = checks.get(check_id)
        if check is not None and not check.passed:
            return with_outcome(NOT_ACCEPTED, check.message)
    status = checks.get("status")
    if status is not None and not status.passed:
        if status.reason == REVOKED:
            return with_outcome(REVOKED, status.message)
        if status.reason == SUSPENDED:
            return with_outcome(SUSPENDED, status.message)
        if status.severity == "error":
            return with_outcome(NOT_ACCEPTED, status.message)
    validity = checks.get("validity-period")
    if validity is not None and not validity.passed:
        expired = outcome.valid_until is not None and outcome.valid_until < now
        return with_outcome(EXPIRED if expired else NOT_ACCEPTED, validity.message)
    notes = []
    if status is not None and not status.passed:
        notes.append(status.message)
    if outcome.valid_until is None:
        return with_outcome(ACCEPTED, " ".join(["Valid, with no expiry date."] + notes))
    days = (outcome.valid_until - now).days
    name = ACCEPTED
    for limit, bucket in ((30, EXPIRING_30), (60, EXPIRING_60), (90, EXPIRING_90)):
        if days < limit:
            name = bucket
            break
    reason = f"Valid until {outcome.valid_until.date().isoformat()} ({days} days)."
    return with_outcome(name, " ".join([reason] + notes))


def _rank(outcome: CredentialOutcome) -> tuple[int, float]:
    expiry = outcome.valid_until.timestamp() if outcome.valid_until else float("inf")
    return OUTCOME_ORDER.index(outcome.outcome), -expiry


def build_report(
    profile: Profile,
    results: list[VerificationResult],
    *,
    now: datetime,
    presentation_problems: list[str] | None = None,
) -> PassportReport:
    """Hold each credential's verification result against ``profile``.

    :param results: one result per shared credential.
    :param presentation_problems: failed checks of the presentation itself
        (signature, challenge, holder binding); when present, no credential
        is accepted, because the passport cannot be tied to the person.
    """
    report = PassportReport(profile=profile, generated_at=now)
    assessed = [assess_credential(result, now) for result in results]
    if presentation_problems:
        report.notes.append(
            "The presentation failed verification, so nothing in it is accepted: "
            + " ".join(presentation_problems)
        )
        assessed = [
            CredentialOutcome(
                NOT_ACCEPTED,
                "The presentation that carried it failed verification.",
                item.subject_code,
                item.credential_id,
                item.issuer_name,
                item.valid_until,
            )
            for item in assessed
        ]
    for code in profile.requirements:
        report.rows.append(_row_for(code, assessed, now))
    return report


def _row_for(code: str, assessed: list[CredentialOutcome], now: datetime) -> ReportRow:
    title = subject_title(code)
    accepted_codes = satisfying_codes(code)
    candidates = [item for item in assessed if item.subject_code in accepted_codes]
    if not candidates:
        return _lower_level_row(code, title, assessed)
    best = min(candidates, key=_rank)
    expires_on = best.valid_until.date() if best.valid_until else None
    days_left = (best.valid_until - now).days if best.valid_until else None
    reason = best.reason
    if best.subject_code != code:
        reason = (
            f"Held as {subject_title(best.subject_code or '')}, which satisfies it. "
            + reason
        )
    return ReportRow(
        subject_code=code,
        title=title,
        outcome=best.outcome,
        reason=reason,
        credential_id=best.credential_id,
        held_code=best.subject_code,
        issuer_name=best.issuer_name,
        expires_on=expires_on,
        days_left=days_left,
    )


def _lower_level_row(
    code: str, title: str, assessed: list[CredentialOutcome]
) -> ReportRow:
    subjects = subjects_by_code()
    required = subjects.get(code)
    lower = [
        item
        for item in assessed
        if required is not None
        and item.subject_code in subjects
        and subjects[item.subject_code].subject == required.subject
    ]
    if lower:
        held = lower[0]
        held_title = subject_title(held.subject_code or "")
        return ReportRow(
            subject_code=code,
            title=title,
            outcome=NOT_ACCEPTED,
            reason=f"Held {held_title}, which does not satisfy {title}: the "
            "level is too low or the variant differs.",
            credential_id=held.credential_id,
            held_code=held.subject_code,
            issuer_name=held.issuer_name,
        )
    return ReportRow(
        subject_code=code,
        title=title,
        outcome=MISSING,
        reason="No credential for this subject was shared.",
    )
