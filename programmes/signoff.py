"""Sign-off rules: who may sign a competency, and when it is signed off.

A rule is data in the framework: the roles that may sign, the roles whose
signer must be the person named for the learner, the number of distinct
signers, and a CEL condition over the round's signatures and evidence. The
signer's role is read from the role grants inside the signing transaction,
so a role removed a moment ago no longer signs.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, select

from accounts.models import RoleGrant
from programmes.errors import SignOffRejected
from programmes.framework import Competency, Framework, SignOffRule
from programmes.labels import label, with_article
from programmes.models import ProgrammeCohort, ProgrammeEnrolment, SignOffDecision
from programmes.roles import ASSESSOR, LINE_MANAGER, PROGRAMME_LEAD, account_role
from workflows.errors import ExpressionFailed
from workflows.expressions import evaluate_condition


@dataclass(frozen=True)
class Signer:
    """An account allowed to sign one competency, and the role it signs in."""

    account_id: int
    role: str


def role_organisation(
    role: str,
    competency: Competency,
    enrolment: ProgrammeEnrolment,
    cohort: ProgrammeCohort,
) -> str:
    """Return the organisation where ``role`` must be held to act on the
    competency: the cohort's lead organisation for the programme lead, the
    university for an academic module, the learner's employer otherwise."""
    if role == PROGRAMME_LEAD:
        return cohort.lead_organisation
    if competency.issuer == "university" and cohort.university is not None:
        return cohort.university
    return enrolment.organisation


def held_roles(
    session: Session,
    account_id: int,
    roles: Sequence[str],
    competency: Competency,
    enrolment: ProgrammeEnrolment,
    cohort: ProgrammeCohort,
) -> list[str]:
    """Return which of ``roles`` the account has now, each at the
    organisation where it counts for this competency."""
    grants = session.exec(
        select(RoleGrant.role, RoleGrant.organisation_slug).where(
            RoleGrant.account_id == account_id
        )
    ).all()
    granted = set(grants)
    return [
        role
        for role in roles
        if (
            account_role(role),
            role_organisation(role, competency, enrolment, cohort),
        )
        in granted
    ]


def named_account(role: str, enrolment: ProgrammeEnrolment) -> int | None:
    """Return the account named for ``role`` on the enrolment, if one is."""
    if role == ASSESSOR:
        return enrolment.assessor_account_id
    if role == LINE_MANAGER:
        return enrolment.line_manager_account_id
    return None


def reject_learner(
    account_id: int,
    rule: SignOffRule,
    competency: Competency,
    enrolment: ProgrammeEnrolment,
) -> None:
    """Reject a learner's decision on their own competency, naming who signs.

    :raises SignOffRejected: when ``account_id`` is the enrolment's learner.
    """
    if account_id == enrolment.learner_account_id:
        raise SignOffRejected(
            f"You cannot sign off your own competency {competency.title!r}; "
            f"ask {_signers_in_words(rule)} to sign it off."
        )


def choose_signer(
    session: Session,
    *,
    account_id: int,
    framework: Framework,
    competency: Competency,
    enrolment: ProgrammeEnrolment,
    cohort: ProgrammeCohort,
    signatures: Sequence[SignOffDecision],
    role: str | None = None,
) -> Signer:
    """Check that the account may sign now and pick the role it signs in.

    An account holding several of the rule's roles signs in the first one
    that the round's signatures do not cover yet, unless ``role`` names one.

    :raises SignOffRejected: naming the reason: the learner's own
        competency, a second signature by one person, or no suitable role.
    """
    rule = framework.rule_for(competency)
    reject_learner(account_id, rule, competency, enrolment)
    for signature in signatures:
        if signature.account_id == account_id:
            raise SignOffRejected(
                f"Account {account_id} already signed competency "
                f"{competency.id!r} in this round; the next signature must come "
                f"from another person ({rule.min_signers} distinct signers needed)."
            )
    requested_roles = [role] if role is not None else list(rule.signers)
    if role is not None and role not in rule.signers:
        raise SignOffRejected(
            f"Role {role!r} does not sign competency {competency.id!r}; its rule "
            f"{rule.id!r} accepts {', '.join(rule.signers)}."
        )
    current = held_roles(
        session, account_id, requested_roles, competency, enrolment, cohort
    )
    eligible = []
    not_named = []
    for candidate in current:
        if candidate in rule.named_only:
            if named_account(candidate, enrolment) != account_id:
                not_named.append(candidate)
                continue
        eligible.append(candidate)
    if not eligible and not_named:
        raise SignOffRejected(_not_named_reason(not_named[0], competency, enrolment))
    if not eligible:
        raise SignOffRejected(_no_role_reason(rule, competency, enrolment, cohort))
    covered = {signature.role for signature in signatures}
    uncovered = [candidate for candidate in eligible if candidate not in covered]
    return Signer(account_id, (uncovered or eligible)[0])


def _signers_in_words(rule: SignOffRule) -> str:
    """Return who signs under ``rule`` as the learner reads it ("your named
    assessor or a line manager")."""
    people = [
        f"your named {label(role).lower()}"
        if role in rule.named_only
        else with_article(label(role))
        for role in rule.signers
    ]
    return " or ".join(people)


def _not_named_reason(
    role: str, competency: Competency, enrolment: ProgrammeEnrolment
) -> str:
    named = named_account(role, enrolment)
    person = label(role).lower()
    if named is None:
        return (
            f"Competency {competency.id!r} is signed by the learner's named {person}, "
            f"and enrolment {enrolment.reference} names none; the programme lead "
            f"names one first."
        )
    return (
        f"Competency {competency.id!r} is signed by the learner's named {person}, "
        f"account {named}; ask them, or ask the programme lead to name you."
    )


def _no_role_reason(
    rule: SignOffRule,
    competency: Competency,
    enrolment: ProgrammeEnrolment,
    cohort: ProgrammeCohort,
) -> str:
    places = ", ".join(
        f"{role} at {role_organisation(role, competency, enrolment, cohort)}"
        + (" (the learner's named person)" if role in rule.named_only else "")
        for role in rule.signers
    )
    return (
        f"Competency {competency.id!r} is signed off under rule {rule.id!r} by: "
        f"{places}. This account holds none of these roles there now; ask an "
        f"administrator to grant the role, or ask someone who holds it."
    )


def rule_satisfied(
    rule: SignOffRule,
    signatures: Sequence[SignOffDecision],
    evidence_types: Sequence[str],
) -> bool:
    """Return whether the round's signatures and the evidence meet the rule.

    :raises ExpressionFailed: when the rule's condition fails to evaluate.
    """
    if len({signature.account_id for signature in signatures}) < rule.min_signers:
        return False
    variables = {
        "signers": [{"role": signature.role} for signature in signatures],
        "roles": sorted({signature.role for signature in signatures}),
        "evidence": sorted(set(evidence_types)),
    }
    return evaluate_condition(rule.condition, variables)


__all__ = [
    "ExpressionFailed",
    "reject_learner",
    "Signer",
    "choose_signer",
    "held_roles",
    "role_organisation",
    "rule_satisfied",
]
