"""Recognition of prior learning: a lead at another organisation verifies a
newcomer's competency credential and counts it instead of repeating it."""

import copy
from datetime import date

import pytest
from sqlalchemy.engine import Engine

from passport.verification import sources_from_engine
from programmes.errors import PriorLearningRejected
from programmes.service import Programmes
from tests.programmes.conftest import COUNCIL, TRUST, People
from tests.programmes.test_service import add_all_evidence, wallet_documents


@pytest.fixture
def earned(
    programmes: Programmes, enrolment_ref: str, people: People, programme_engine: Engine
) -> dict:
    """The clin-delegation credential the learner earned on the first cohort."""
    add_all_evidence(programmes, enrolment_ref, "clin-delegation", people)
    programmes.sign_off(enrolment_ref, "clin-delegation", account_id=people.assessor)
    return wallet_documents(programme_engine, people.learner)[0]


@pytest.fixture
def newcomer_ref(programmes: Programmes, people: People) -> str:
    """The same learner on a social care cohort led by someone else."""
    programmes.create_cohort(
        code="GLP-COUNCIL",
        title="Social care leadership",
        lead_account_id=people.outsider,
        lead_organisation=COUNCIL,
        starts_on=date(2027, 1, 4),
    )
    return programmes.enrol_learner(
        cohort_code="GLP-COUNCIL",
        learner_account_id=people.learner,
        organisation=COUNCIL,
        variant="social-care",
        assessor_account_id=people.councilassessor,
    ).reference


def test_verified_credential_is_counted(
    programmes: Programmes,
    earned: dict,
    newcomer_ref: str,
    people: People,
    programme_engine: Engine,
) -> None:
    counted = programmes.count_prior_learning(
        newcomer_ref,
        earned,
        account_id=people.outsider,
        verification_sources=sources_from_engine(programme_engine),
    )

    assert counted == "clin-delegation"
    status = {c.id: c.status for c in programmes.portfolio(newcomer_ref).competencies}
    assert status["clin-delegation"] == "counted"
    figures = programmes.progress("GLP-COUNCIL").learners[0]
    assert figures.counted == 1


def test_tampered_credential_rejected(
    programmes: Programmes,
    earned: dict,
    newcomer_ref: str,
    people: People,
    programme_engine: Engine,
) -> None:
    tampered = copy.deepcopy(earned)
    tampered["credentialSubject"]["achievement"]["name"] = "Something else"

    with pytest.raises(PriorLearningRejected, match="does not verify"):
        programmes.count_prior_learning(
            newcomer_ref,
            tampered,
            account_id=people.outsider,
            verification_sources=sources_from_engine(programme_engine),
        )


def test_revoked_credential_rejected(
    programmes: Programmes,
    enrolment_ref: str,
    earned: dict,
    newcomer_ref: str,
    people: People,
    programme_engine: Engine,
) -> None:
    programmes.withdraw_sign_off(
        enrolment_ref, "clin-delegation", account_id=people.lead, reason="Error."
    )

    with pytest.raises(PriorLearningRejected, match="does not verify"):
        programmes.count_prior_learning(
            newcomer_ref,
            earned,
            account_id=people.outsider,
            verification_sources=sources_from_engine(programme_engine),
        )


def test_only_cohort_lead_counts(
    programmes: Programmes,
    earned: dict,
    newcomer_ref: str,
    people: People,
    programme_engine: Engine,
) -> None:
    with pytest.raises(PriorLearningRejected, match="programme lead"):
        programmes.count_prior_learning(
            newcomer_ref,
            earned,
            account_id=people.lead,
            verification_sources=sources_from_engine(programme_engine),
        )


def test_other_holder_rejected(
    programmes: Programmes,
    earned: dict,
    people: People,
    programme_engine: Engine,
) -> None:
    programmes.create_cohort(
        code="GLP-OTHER",
        title="Other",
        lead_account_id=people.outsider,
        lead_organisation=COUNCIL,
        starts_on=date(2027, 1, 4),
    )
    other = programmes.enrol_learner(
        cohort_code="GLP-OTHER",
        learner_account_id=people.learner2,
        organisation=TRUST,
        variant="nursing",
        assessor_account_id=people.assessor,
    ).reference

    with pytest.raises(PriorLearningRejected, match="another holder"):
        programmes.count_prior_learning(
            other,
            earned,
            account_id=people.outsider,
            verification_sources=sources_from_engine(programme_engine),
        )
