"""The HR verification report: checks in plain words beside the claims.

Nothing here knows Flask. HR hands over a QR payload, credential JSON or an
image of a QR code; :func:`verify_submission` turns it into a
:class:`HrReport` that the HR page renders as it is.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from credentials.proofs import DidResolver
from keys.did_key import resolve_did_key
from verifier.inputs import is_presentation, is_qr_payload, parse_input
from verifier.pipeline import verify_credential
from verifier.qr_image import QrImageError, read_qr_text
from verifier.registry import IssuerRegistry
from verifier.results import Check, VerificationResult
from verifier.status import StatusListCache
from verifier.words import spoken_day, spoken_duration, spoken_instant

#: Plain headings for each check of a credential, in report order.
CHECK_TITLES = {
    "well-formed": "Credential format",
    "contexts-allowed": "Known vocabulary only",
    "proof": "Signature",
    "verification-method": "Signed by the issuer's own key",
    "issuer-known": "Issuer in the partnership",
    "validity-period": "In date",
}


class SubmissionError(ValueError):
    """What HR sent cannot be read as a credential; the message says why."""


@dataclass(frozen=True)
class CheckRow:
    """One line of the report: heading, outcome and the check's message."""

    id: str
    title: str
    outcome: str  # "pass", "warn" or "fail"
    message: str


@dataclass(frozen=True)
class Claim:
    """One claim of the credential, labelled for people."""

    label: str
    value: str


@dataclass
class HrReport:
    """The verification report of one submitted credential."""

    source: str
    verified: bool
    rows: list[CheckRow]
    claims: list[Claim] = field(default_factory=list)
    result: VerificationResult | None = None

    @property
    def warnings(self) -> list[CheckRow]:
        """The rows that passed with a warning to weigh."""
        return [row for row in self.rows if row.outcome == "warn"]


def _row(check: Check) -> CheckRow:
    title = CHECK_TITLES.get(check.id, check.id.replace("-", " ").capitalize())
    return CheckRow(check.id, title, check.outcome, check.message)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value).lower() if isinstance(value, bool) else str(value)
    return ""


def credential_claims(
    document: Any, registry: IssuerRegistry | None = None
) -> list[Claim]:
    """Return the claims HR looks at, as the credential states them.

    Missing or oddly typed fields are left out rather than guessed. The
    issuer's name comes from the credential, or else from ``registry`` for a
    partnership member, since training credentials name their issuer by DID.
    """
    if not isinstance(document, dict):
        return []
    issuer = document.get("issuer")
    subject = document.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    achievement = subject.get("achievement")
    achievement = achievement if isinstance(achievement, dict) else {}
    candidates = [
        ("Name", subject.get("name")),
        ("Subject", achievement.get("name") or document.get("name")),
        ("Subject code", subject.get("subjectCode")),
        ("Level", subject.get("level")),
        ("Completed", _in_words(subject.get("completionDate"), spoken_day)),
        ("Valid from", _in_words(document.get("validFrom"), spoken_instant)),
        ("Valid until", _in_words(document.get("validUntil"), spoken_instant)),
        (
            "Refresher period",
            _in_words(subject.get("refresherPeriod"), spoken_duration),
        ),
        ("Issuer", _issuer_name(issuer, registry)),
        ("Issuer DID", issuer.get("id") if isinstance(issuer, dict) else issuer),
        ("Holder DID", subject.get("id")),
        ("Credential id", document.get("id")),
    ]
    return [Claim(label, _text(value)) for label, value in candidates if _text(value)]


def _in_words(value: Any, words: Callable[[str], str]) -> Any:
    """Return a text value in words, or any other value unchanged."""
    return words(value) if isinstance(value, str) else value


def _issuer_name(issuer: Any, registry: IssuerRegistry | None) -> str | None:
    if isinstance(issuer, dict) and isinstance(issuer.get("name"), str):
        return str(issuer["name"])
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if registry is None or not isinstance(issuer_id, str):
        return None
    member = registry.lookup(issuer_id)
    return member.name if member is not None else None


def verify_submission(
    *,
    text: str | None = None,
    image: bytes | None = None,
    registry: IssuerRegistry,
    now: datetime,
    resolve_did: DidResolver = resolve_did_key,
    status_lists: StatusListCache | None = None,
) -> HrReport:
    """Verify a credential that HR pasted as text or uploaded as a QR image.

    An image, when given, is used; otherwise the text. ``resolve_did`` and
    ``status_lists`` are passed to :func:`verifier.verify_credential`.

    :raises SubmissionError: if neither is given, the image holds no readable
        QR code, the text is neither a QR payload nor credential JSON, or it
        is a presentation (those are verified against a challenge).
    """
    if image:
        try:
            text = read_qr_text(image)
        except QrImageError as error:
            raise SubmissionError(str(error)) from error
        source = "QR code image"
    elif text and text.strip():
        source = "QR payload" if is_qr_payload(text) else "credential JSON"
    else:
        raise SubmissionError(
            "Nothing was sent; paste the QR code's text or the credential JSON, "
            "or upload a picture of the QR code."
        )
    try:
        document = parse_input(text)
    except ValueError as error:
        if source == "QR code image":
            raise SubmissionError(
                f"The QR code does not hold a credential: {error}"
            ) from error
        raise SubmissionError(str(error)) from error
    if is_presentation(document):
        raise SubmissionError(
            "This is a presentation, which must be verified against the "
            "challenge this verifier issued; paste a single credential instead."
        )
    result = verify_credential(
        document,
        now=now,
        registry=registry,
        resolve_did=resolve_did,
        status_lists=status_lists,
    )
    return HrReport(
        source=source,
        verified=result.verified,
        rows=[_row(check) for check in result.checks],
        claims=credential_claims(document, registry),
        result=result,
    )
