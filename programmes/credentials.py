"""Achievement credentials for competencies and completed programmes.

Each competency signed off, and each programme completed, becomes an Open
Badges 3.0 ``OpenBadgeCredential`` signed by the learner's employer (or by
the cohort's university for academic modules) through the issuer, and goes
straight into the learner's wallet. A managerial or personal competency
carries its Healthcare Leadership Model dimension as an ``alignment`` and
the signers' rating as a ``result``.

``ProgrammeCredential.issue_key`` is unique, so processing one completion
twice, in one process or in two at once, issues one credential. The second
attempt finds the first one's row and returns it.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from accounts.models import UserAccount
from accounts.service import link_wallet
from credentials.datetimes import format_date_time_stamp
from issuer.models import IssuedCredential, Organisation
from issuer.service import change_status, get_organisation, issue_credential
from keys.store import KeyStore
from programmes.framework import Competency, Framework
from programmes.models import ProgrammeCredential
from wallet_web.holders import create_wallet, holder_did_of
from wallet_web.service import receive_credential

logger = logging.getLogger(__name__)

CONTEXTS = (
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
)
ACHIEVEMENT_ID_PREFIX = "https://staff-passport.example/achievements/programmes/"
HEALTHCARE_LEADERSHIP_MODEL = "NHS Healthcare Leadership Model"
HEALTHCARE_LEADERSHIP_MODEL_URL = (
    "https://leadershipacademy.nhs.uk/healthcare-leadership-model/"
    "explore-the-healthcare-leadership-model"
)
PROGRAMME_KEY = "programme"
"""The ``competency`` part of the issue key of a programme completion."""


@dataclass(frozen=True)
class Achievement:
    """The achievement a credential states, with its rating and issuer."""

    achievement_id: str
    achievement_type: str
    name: str
    description: str
    criteria: str
    organisation: str
    alignment: tuple[str, str] | None = None
    rating: str | None = None


def achievement_id(framework: Framework, competency: str) -> str:
    """Return the URL naming a competency (or ``programme``) of a framework."""
    return f"{ACHIEVEMENT_ID_PREFIX}{framework.id}/v{framework.version}/{competency}"


def competency_from_achievement(framework: Framework, achievement: str) -> str | None:
    """Return the competency id an achievement URL names in ``framework``, if any.

    Any version of the framework counts, because a competency keeps its id
    across versions.
    """
    prefix = f"{ACHIEVEMENT_ID_PREFIX}{framework.id}/v"
    if not achievement.startswith(prefix):
        return None
    _, _, competency = achievement[len(prefix) :].partition("/")
    return competency if competency in framework.competencies else None


def competency_achievement(
    framework: Framework,
    competency: Competency,
    *,
    organisation: str,
    rating: str | None,
) -> Achievement:
    rule = framework.rule_for(competency)
    alignment = None
    if competency.dimension is not None:
        alignment = (framework.dimensions[competency.dimension], competency.dimension)
    return Achievement(
        achievement_id=achievement_id(framework, competency.id),
        achievement_type="Competency",
        name=competency.title,
        description=f"{competency.domain.capitalize()} competency, {framework.title}.",
        criteria=rule.title,
        organisation=organisation,
        alignment=alignment,
        rating=rating,
    )


def programme_achievement(
    framework: Framework, variant: str, *, organisation: str
) -> Achievement:
    count = len(framework.competencies_for(variant))
    return Achievement(
        achievement_id=achievement_id(framework, f"{PROGRAMME_KEY}-{variant}"),
        achievement_type="Certificate",
        name=f"{framework.title} ({framework.variants[variant]})",
        description=f"{framework.title} completed.",
        criteria=f"All {count} competencies of the programme signed off or counted.",
        organisation=organisation,
    )


def build_achievement_credential(
    achievement: Achievement,
    *,
    credential_id: str,
    issuer_did: str,
    holder_did: str,
    valid_from: datetime,
) -> dict[str, Any]:
    """Build the unsigned credential; the issuer adds status and proof.

    NOTE: signed with its two status entries, a competency credential
    encodes to a QR code of version 17 (clinical) to 19 (with a leadership
    alignment), above the wallet's target of 13, because the QR codec's
    preset dictionary contains training credential terms only. A webcam may
    not read it from a phone screen; the credential file and share links
    still work.
    """
    details: dict[str, Any] = {
        "id": achievement.achievement_id,
        "type": ["Achievement"],
        "achievementType": achievement.achievement_type,
        "name": achievement.name,
        "description": achievement.description,
        "criteria": {"narrative": achievement.criteria},
    }
    if achievement.alignment is not None:
        name, dimension = achievement.alignment
        details["alignment"] = [
            {
                "type": ["Alignment"],
                "targetName": name,
                "targetCode": dimension,
                "targetFramework": HEALTHCARE_LEADERSHIP_MODEL,
                "targetUrl": HEALTHCARE_LEADERSHIP_MODEL_URL,
            }
        ]
    subject: dict[str, Any] = {
        "id": holder_did,
        "type": ["AchievementSubject"],
        "achievement": details,
    }
    if achievement.rating is not None:
        subject["result"] = [{"type": ["Result"], "value": achievement.rating}]
    return {
        "@context": list(CONTEXTS),
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": achievement.name,
        "issuer": {"id": issuer_did, "type": ["Profile"]},
        "validFrom": format_date_time_stamp(valid_from.replace(microsecond=0)),
        "credentialSubject": subject,
    }


def wallet_of(session: Session, key_store: KeyStore, account_id: int) -> int:
    """Return the learner's wallet id, creating and linking a wallet if needed."""
    account = session.get(UserAccount, account_id)
    assert account is not None
    if account.wallet_id is not None:
        return account.wallet_id
    wallet = create_wallet(session, key_store, account.display_name)
    assert wallet.id is not None
    link_wallet(session, account_id, wallet.id)
    return wallet.id


def issue_once(
    session: Session,
    key_store: KeyStore,
    *,
    issue_key: str,
    enrolment_id: int,
    competency: str | None,
    achievement: Achievement,
    learner_account_id: int,
    actor: str,
    at: datetime,
) -> ProgrammeCredential:
    """Issue the credential for ``issue_key`` into the learner's wallet, once.

    Runs under a savepoint: when another transaction committed the same key
    first, the insert fails, this call's changes are rolled back, and the
    committed row is returned.
    """
    existing = _by_key(session, issue_key)
    if existing is not None:
        return existing
    row = ProgrammeCredential(
        issue_key=issue_key,
        enrolment_id=enrolment_id,
        competency=competency,
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        organisation=achievement.organisation,
        issued_at=at,
    )
    savepoint = session.begin_nested()
    try:
        _issue(session, key_store, row, achievement, learner_account_id, actor)
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        existing = _by_key(session, issue_key)
        if existing is None:
            raise
        return existing
    logger.info(
        "programme credential issued enrolment=%s competency=%s credential=%s",
        enrolment_id,
        competency or PROGRAMME_KEY,
        row.credential_id,
    )
    return row


def _by_key(session: Session, issue_key: str) -> ProgrammeCredential | None:
    return session.exec(
        select(ProgrammeCredential).where(ProgrammeCredential.issue_key == issue_key)
    ).first()


def _issue(
    session: Session,
    key_store: KeyStore,
    row: ProgrammeCredential,
    achievement: Achievement,
    learner_account_id: int,
    actor: str,
) -> None:
    # The key row goes in first, so a concurrent duplicate fails here before
    # it signs anything or takes a status list index.
    session.add(row)
    session.flush()
    at = row.issued_at
    credential_id = row.credential_id
    organisation: Organisation = get_organisation(session, achievement.organisation)
    wallet_id = wallet_of(session, key_store, learner_account_id)
    unsigned = build_achievement_credential(
        achievement,
        credential_id=credential_id,
        issuer_did=organisation.did,
        holder_did=holder_did_of(session, wallet_id),
        valid_from=at,
    )
    issue_credential(
        session,
        key_store,
        organisation,
        unsigned,
        actor=actor,
        delivery="accepted",
        at=at,
    )
    issued = session.get(IssuedCredential, credential_id)
    assert issued is not None
    receive_credential(session, wallet_id, issued.document)


def revoke(
    session: Session,
    key_store: KeyStore,
    row: ProgrammeCredential,
    *,
    reason: str,
    actor: str,
    at: datetime,
) -> None:
    """Revoke a programme credential through its issuer's status list."""
    if row.revoked_at is not None:
        return
    organisation = get_organisation(session, row.organisation)
    change_status(
        session,
        key_store,
        organisation,
        row.credential_id,
        "revoke",
        reason=reason,
        actor=actor,
        at=at,
    )
    row.revoked_at = at
    session.add(row)
