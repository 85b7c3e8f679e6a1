"""The programmes service on SQLite and PostgreSQL: enrolment, evidence,
sign-off rules, credentials issued once, withdrawal and bad input."""

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from accounts.models import RoleGrant, UserAccount
from audit.log import verify_chain
from audit.models import AuditEntry
from issuer.models import IssuedCredential
from passport.verification import sources_from_engine
from programmes.errors import EvidenceRejected, SignOffRejected
from programmes.evidence import EVIDENCE_FOLDER, MAX_EVIDENCE_BYTES
from programmes.models import EvidenceItem, ProgrammeCredential, SignOffDecision
from programmes.service import Programmes
from tests.programmes.conftest import People
from verifier import verify_credential
from wallet_web.models import WalletCredential

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def add_all_evidence(
    programmes: Programmes, reference: str, competency: str, people: People
) -> None:
    """Add one item of each evidence type the competency needs."""
    portfolio = programmes.portfolio(reference)
    needed = next(c for c in portfolio.competencies if c.id == competency)
    for kind in needed.missing_evidence:
        if kind == "document":
            programmes.add_evidence(
                reference,
                competency,
                account_id=people.learner,
                evidence_type=kind,
                title="Audit report",
                file_name="audit.pdf",
                content=PDF,
            )
        elif kind == "observation-record":
            programmes.add_evidence(
                reference,
                competency,
                account_id=people.supervisor,
                evidence_type=kind,
                title="Observed on a late shift",
                text="Allocated the team and checked back at each break.",
            )
        else:
            programmes.add_evidence(
                reference,
                competency,
                account_id=people.learner,
                evidence_type=kind,
                title=f"My {kind}",
                text="What happened, what I learned and what I will change.",
            )


def wallet_documents(engine: Engine, account_id: int) -> list[dict]:
    with Session(engine) as session:
        account = session.get(UserAccount, account_id)
        assert account is not None and account.wallet_id is not None
        rows = session.exec(
            select(WalletCredential).where(
                WalletCredential.wallet_id == account.wallet_id
            )
        ).all()
        return [json.loads(row.document) for row in rows]


def test_enrolment_creates_records_and_reviews(
    programmes: Programmes, enrolment_ref: str
) -> None:
    portfolio = programmes.portfolio(enrolment_ref)

    assert len(portfolio.competencies) == 13
    assert {c.status for c in portfolio.competencies} == {"open"}
    assert [r.step for r in portfolio.reviews] == []
    assert portfolio.due_next


def test_enrolment_again_changes_nothing(
    programmes: Programmes, enrolment_ref: str, people: People
) -> None:
    again = programmes.enrol_learner(
        cohort_code="GLP-2026",
        learner_account_id=people.learner,
        organisation="chelmer-valley",
        variant="nursing",
        assessor_account_id=people.assessor,
    )

    assert again.reference == enrolment_ref
    assert len(programmes.progress("GLP-2026").learners) == 1


def test_clinical_sign_off_issues_credential(
    programmes: Programmes,
    enrolment_ref: str,
    people: People,
    programme_engine: Engine,
) -> None:
    add_all_evidence(programmes, enrolment_ref, "clin-delegation", people)

    result = programmes.sign_off(
        enrolment_ref, "clin-delegation", account_id=people.assessor
    )

    assert result.signed_off
    assert len(result.credential_ids) == 1
    documents = wallet_documents(programme_engine, people.learner)
    assert [d["id"] for d in documents] == list(result.credential_ids)
    achievement = documents[0]["credentialSubject"]["achievement"]
    assert achievement["achievementType"] == "Competency"
    verified = verify_credential(
        documents[0],
        now=programmes.clock.now(),
        **sources_from_engine(programme_engine),
    )
    assert verified.verified, [c.message for c in verified.checks if not c.passed]


def test_academic_module_issued_by_university(
    programmes: Programmes,
    enrolment_ref: str,
    people: People,
    programme_engine: Engine,
) -> None:
    add_all_evidence(programmes, enrolment_ref, "clin-evidence-based-practice", people)

    result = programmes.sign_off(
        enrolment_ref, "clin-evidence-based-practice", account_id=people.academic
    )

    with Session(programme_engine) as session:
        row = session.exec(
            select(ProgrammeCredential).where(
                ProgrammeCredential.credential_id == result.credential_ids[0]
            )
        ).one()
    assert row.organisation == "university-of-mersea"


def test_managerial_needs_manager_and_lead(
    programmes: Programmes,
    enrolment_ref: str,
    people: People,
    programme_engine: Engine,
) -> None:
    add_all_evidence(programmes, enrolment_ref, "man-performance", people)

    first = programmes.sign_off(
        enrolment_ref, "man-performance", account_id=people.manager, rating="strong"
    )
    second = programmes.sign_off(
        enrolment_ref, "man-performance", account_id=people.lead, rating="proficient"
    )

    assert not first.signed_off
    assert second.signed_off
    documents = wallet_documents(programme_engine, people.learner)
    subject = documents[0]["credentialSubject"]
    assert subject["result"] == [{"type": ["Result"], "value": "proficient"}]
    alignment = subject["achievement"]["alignment"][0]
    assert alignment["targetName"] == "Holding to account"


def test_learner_cannot_sign_own(
    programmes: Programmes, enrolment_ref: str, people: People
) -> None:
    add_all_evidence(programmes, enrolment_ref, "clin-delegation", people)

    with pytest.raises(SignOffRejected) as rejected:
        programmes.sign_off(enrolment_ref, "clin-delegation", account_id=people.learner)

    message = str(rejected.value)
    assert message.startswith("You cannot sign off your own competency")
    assert "ask your named assessor" in message


def test_wrong_role_is_rejected(
    programmes: Programmes, enrolment_ref: str, people: People
) -> None:
    add_all_evidence(programmes, enrolment_ref, "clin-delegation", people)

    with pytest.raises(SignOffRejected, match="holds none of these roles"):
        programmes.sign_off(
            enrolment_ref, "clin-delegation", account_id=people.supervisor
        )
    with pytest.raises(SignOffRejected, match="holds none of these roles"):
        programmes.sign_off(
            enrolment_ref, "clin-delegation", account_id=people.outsider
        )


def test_only_named_assessor_signs_clinical(
    programmes: Programmes, enrolment_ref: str, people: People
) -> None:
    add_all_evidence(programmes, enrolment_ref, "clin-delegation", people)

    with pytest.raises(SignOffRejected, match="named assessor, account"):
        programmes.sign_off(
            enrolment_ref, "clin-delegation", account_id=people.assessor2
        )


def test_same_person_twice_is_rejected(
    programmes: Programmes,
    enrolment_ref: str,
    people: People,
    programme_engine: Engine,
) -> None:
    add_all_evidence(programmes, enrolment_ref, "man-change", people)
    programmes.sign_off(
        enrolment_ref, "man-change", account_id=people.manager, rating="strong"
    )

    with pytest.raises(SignOffRejected, match="already signed"):
        programmes.sign_off(
            enrolment_ref, "man-change", account_id=people.manager, rating="strong"
        )

    with Session(programme_engine) as session:
        signatures = session.exec(select(SignOffDecision)).all()
        evidence = session.exec(select(EvidenceItem)).all()
    assert len(signatures) == 1
    assert len(evidence) == 2


def test_role_removed_before_signing_is_rejected(
    programmes: Programmes,
    enrolment_ref: str,
    people: People,
    programme_engine: Engine,
) -> None:
    add_all_evidence(programmes, enrolment_ref, "man-change", people)
    with Session(programme_engine) as session:
        for grant in session.exec(
            select(RoleGrant).where(RoleGrant.account_id == people.manager)
        ):
            session.delete(grant)
        session.commit()

    with pytest.raises(SignOffRejected, match="holds none of these roles"):
        programmes.sign_off(
            enrolment_ref, "man-change", account_id=people.manager, rating="strong"
        )


def test_sign_off_needs_evidence_and_rating(
    programmes: Programmes, enrolment_ref: str, people: People
) -> None:
    with pytest.raises(SignOffRejected, match="needs evidence of type"):
        programmes.sign_off(
            enrolment_ref, "clin-delegation", account_id=people.assessor
        )

    add_all_evidence(programmes, enrolment_ref, "man-performance", people)
    with pytest.raises(SignOffRejected, match="needs a rating"):
        programmes.sign_off(enrolment_ref, "man-performance", account_id=people.manager)
    with pytest.raises(SignOffRejected, match="below the expected"):
        programmes.sign_off(
            enrolment_ref,
            "man-performance",
            account_id=people.manager,
            rating="essential",
        )


def test_return_starts_new_round(
    programmes: Programmes, enrolment_ref: str, people: People
) -> None:
    add_all_evidence(programmes, enrolment_ref, "man-change", people)
    programmes.sign_off(
        enrolment_ref, "man-change", account_id=people.manager, rating="strong"
    )

    returned = programmes.return_competency(
        enrolment_ref,
        "man-change",
        account_id=people.lead,
        comment="Add the staff survey results.",
    )
    competency = next(
        c
        for c in programmes.portfolio(enrolment_ref).competencies
        if c.id == "man-change"
    )

    assert returned.status == "returned"
    assert competency.round == 2
    assert [d.decision for d in competency.decisions] == ["signed", "returned"]


def test_withdrawal_reopens_and_revokes(
    programmes: Programmes,
    enrolment_ref: str,
    people: People,
    programme_engine: Engine,
) -> None:
    add_all_evidence(programmes, enrolment_ref, "clin-delegation", people)
    signed = programmes.sign_off(
        enrolment_ref, "clin-delegation", account_id=people.assessor
    )

    programmes.withdraw_sign_off(
        enrolment_ref,
        "clin-delegation",
        account_id=people.lead,
        reason="Observation was of another learner.",
    )

    with Session(programme_engine) as session:
        issued = session.get(IssuedCredential, signed.credential_ids[0])
        actions = session.exec(select(AuditEntry.action)).all()
        chain = verify_chain(session)
    assert issued is not None and issued.revoked_at is not None
    assert "programme.sign-off-withdrawn" in actions
    assert "credential.revoked" in actions
    assert chain.intact
    competency = next(
        c
        for c in programmes.portfolio(enrolment_ref).competencies
        if c.id == "clin-delegation"
    )
    assert competency.status == "open"
    assert competency.decisions[0].withdrawal_reason is not None
    verified = verify_credential(
        wallet_documents(programme_engine, people.learner)[0],
        now=programmes.clock.now(),
        **sources_from_engine(programme_engine),
    )
    assert not verified.verified


def test_resigning_after_withdrawal_issues_new_credential(
    programmes: Programmes, enrolment_ref: str, people: People
) -> None:
    add_all_evidence(programmes, enrolment_ref, "clin-delegation", people)
    first = programmes.sign_off(
        enrolment_ref, "clin-delegation", account_id=people.assessor
    )
    programmes.withdraw_sign_off(
        enrolment_ref, "clin-delegation", account_id=people.assessor, reason="Early."
    )

    second = programmes.sign_off(
        enrolment_ref, "clin-delegation", account_id=people.assessor
    )

    assert second.signed_off
    assert second.credential_ids != first.credential_ids


def test_completion_processed_twice_issues_once(
    programmes: Programmes,
    enrolment_ref: str,
    people: People,
    programme_engine: Engine,
) -> None:
    add_all_evidence(programmes, enrolment_ref, "clin-delegation", people)
    signed = programmes.sign_off(
        enrolment_ref, "clin-delegation", account_id=people.assessor
    )

    again = programmes.process_completion(enrolment_ref, "clin-delegation")
    third = programmes.process_completion(enrolment_ref, "clin-delegation")

    assert again == list(signed.credential_ids)
    assert third == again
    with Session(programme_engine) as session:
        rows = session.exec(select(ProgrammeCredential)).all()
        issued = session.exec(select(IssuedCredential)).all()
    assert len(rows) == 1
    assert len(issued) == 1
    assert len(wallet_documents(programme_engine, people.learner)) == 1


def test_wrong_file_type_rejected_before_storing(
    programmes: Programmes, enrolment_ref: str, people: People, tmp_path: Path
) -> None:
    cases = [
        ("report.exe", b"MZ\x90\x00", "not accepted"),
        ("report.pdf", b"<html><script>alert(1)</script>", "not one"),
        ("report.pdf", b"%PDF-" + b"0" * MAX_EVIDENCE_BYTES, "over the limit"),
        ("report.pdf", b"", "empty"),
    ]
    for file_name, content, reason in cases:
        with pytest.raises(EvidenceRejected, match=reason):
            programmes.add_evidence(
                enrolment_ref,
                "man-quality-data",
                account_id=people.learner,
                evidence_type="document",
                title="Audit",
                file_name=file_name,
                content=content,
            )

    folder = tmp_path / "data" / EVIDENCE_FOLDER
    assert not folder.exists() or not any(folder.iterdir())
    competency = next(
        c
        for c in programmes.portfolio(enrolment_ref).competencies
        if c.id == "man-quality-data"
    )
    assert competency.evidence == ()


def test_evidence_type_and_author_checked(
    programmes: Programmes, enrolment_ref: str, people: People
) -> None:
    with pytest.raises(EvidenceRejected, match="takes evidence of types"):
        programmes.add_evidence(
            enrolment_ref,
            "clin-delegation",
            account_id=people.learner,
            evidence_type="document",
            title="Notes",
            file_name="n.pdf",
            content=PDF,
        )
    with pytest.raises(EvidenceRejected, match="is added by"):
        programmes.add_evidence(
            enrolment_ref,
            "clin-delegation",
            account_id=people.learner,
            evidence_type="observation-record",
            title="Observed myself",
            text="I did well.",
        )


def test_stored_file_outside_web_root(
    programmes: Programmes, enrolment_ref: str, people: People, tmp_path: Path
) -> None:
    item = programmes.add_evidence(
        enrolment_ref,
        "man-quality-data",
        account_id=people.learner,
        evidence_type="document",
        title="Audit",
        file_name="../../static/audit.pdf",
        content=PDF,
    )

    assert item.file_name == "audit.pdf"
    assert item.content_type == "application/pdf"
    stored = tmp_path / "data" / EVIDENCE_FOLDER / str(item.storage_name)
    assert stored.read_bytes() == PDF
    assert stored.stat().st_mode & 0o777 == 0o600


def test_completion_processed_concurrently_issues_once(
    programmes: Programmes,
    enrolment_ref: str,
    people: People,
    programme_engine: Engine,
) -> None:
    """Two workers process the same recorded sign-off at once: one credential."""
    import threading

    from programmes.models import CompetencyRecord

    with Session(programme_engine) as session:
        record = session.exec(
            select(CompetencyRecord).where(
                CompetencyRecord.competency == "clin-delegation"
            )
        ).one()
        record.status = "signed-off"
        session.add(record)
        session.commit()
    barrier = threading.Barrier(2)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        barrier.wait()
        try:
            results.append(
                programmes.process_completion(enrolment_ref, "clin-delegation")
            )
        except BaseException as error:  # noqa: BLE001 - reported by the assert
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(results) == 2
    assert results[0] == results[1]
    with Session(programme_engine) as session:
        assert len(session.exec(select(ProgrammeCredential)).all()) == 1
        assert len(session.exec(select(IssuedCredential)).all()) == 1


def test_enrolment_needs_named_roles(programmes: Programmes, people: People) -> None:
    from datetime import date

    from programmes.errors import ProgrammeError

    programmes.create_cohort(
        code="GLP-ROLES",
        title="Roles",
        lead_account_id=people.lead,
        lead_organisation="essex-vale-council",
        starts_on=date(2026, 9, 1),
    )
    cases = [
        (people.outsider, None, "does not have the assessor role"),
        (people.assessor, people.outsider, "does not have the line-manager role"),
        (people.learner, None, "cannot be their own assessor"),
    ]
    for assessor, manager, message in cases:
        with pytest.raises(ProgrammeError, match=message):
            programmes.enrol_learner(
                cohort_code="GLP-ROLES",
                learner_account_id=people.learner,
                organisation="chelmer-valley",
                variant="nursing",
                assessor_account_id=assessor,
                line_manager_account_id=manager,
            )

    assert programmes.progress("GLP-ROLES").learners == ()


def test_evidence_after_sign_off_rejected(
    programmes: Programmes, enrolment_ref: str, people: People
) -> None:
    add_all_evidence(programmes, enrolment_ref, "clin-delegation", people)
    programmes.sign_off(enrolment_ref, "clin-delegation", account_id=people.assessor)

    with pytest.raises(EvidenceRejected, match="already signed-off"):
        programmes.add_evidence(
            enrolment_ref,
            "clin-delegation",
            account_id=people.learner,
            evidence_type="reflection",
            title="Late",
            text="Another reflection.",
        )


def sign_everything(programmes: Programmes, reference: str, people: People) -> None:
    """Add the evidence and the signatures every competency's rule needs."""
    framework = programmes.framework_for(reference)
    signers = {
        "practice-assessor": [people.assessor],
        "academic": [people.academic],
        "manager-and-lead": [people.manager, people.lead],
        "coach-and-self-assessment": [people.supervisor],
    }
    for competency in programmes.portfolio(reference).competencies:
        add_all_evidence(programmes, reference, competency.id, people)
        rule = framework.competencies[competency.id].sign_off
        for account_id in signers[rule]:
            programmes.sign_off(
                reference,
                competency.id,
                account_id=account_id,
                rating=competency.expected_rating,
            )


def test_programme_completion_issues_certificate(
    programmes: Programmes,
    enrolment_ref: str,
    people: People,
    programme_engine: Engine,
) -> None:
    sign_everything(programmes, enrolment_ref, people)
    again = programmes.process_completion(enrolment_ref)

    portfolio = programmes.portfolio(enrolment_ref)
    documents = wallet_documents(programme_engine, people.learner)
    certificates = [
        d
        for d in documents
        if d["credentialSubject"]["achievement"]["achievementType"] == "Certificate"
    ]
    assert portfolio.status == "completed"
    assert len(documents) == 14
    assert len(certificates) == 1
    assert again == [certificates[0]["id"]]
    assert programmes.progress("GLP-2026").totals()["completed"] == 1


def test_withdrawal_after_completion_revokes_certificate(
    programmes: Programmes,
    enrolment_ref: str,
    people: People,
    programme_engine: Engine,
) -> None:
    sign_everything(programmes, enrolment_ref, people)

    programmes.withdraw_sign_off(
        enrolment_ref, "per-engagement", account_id=people.lead, reason="Redo."
    )

    with Session(programme_engine) as session:
        revoked = session.exec(
            select(ProgrammeCredential).where(
                col(ProgrammeCredential.revoked_at).is_not(None)
            )
        ).all()
    assert sorted(row.competency or "programme" for row in revoked) == [
        "per-engagement",
        "programme",
    ]
    assert programmes.portfolio(enrolment_ref).status == "active"


def test_cohort_with_custom_framework(programmes: Programmes, people: People) -> None:
    import copy
    from datetime import date

    from programmes.framework import bundled_framework, read_framework
    from workflows.definitions import compile_definition

    document = copy.deepcopy(bundled_framework().definition.document)
    document["id"] = "custom-leadership"
    extra = [
        {
            "id": f"man-extra-{number}",
            "domain": "managerial",
            "title": f"Extra managerial competency {number}",
            "dimension": "engaging-the-team",
            "expectedRating": "essential",
            "evidence": ["reflection"],
            "signOff": "manager-and-lead",
        }
        for number in range(27)
    ]
    document["programme"]["competencies"].extend(extra)
    framework = read_framework(compile_definition(document))
    programmes.create_cohort(
        code="GLP-BIG",
        title="Forty competencies",
        lead_account_id=people.lead,
        lead_organisation="essex-vale-council",
        starts_on=date(2026, 9, 1),
        framework=framework,
    )

    reference = programmes.enrol_learner(
        cohort_code="GLP-BIG",
        learner_account_id=people.learner,
        organisation="chelmer-valley",
        variant="nursing",
        assessor_account_id=people.assessor,
    ).reference

    assert len(programmes.portfolio(reference).competencies) == 40
    assert programmes.progress("GLP-BIG").learners[0].competencies == 40


def test_only_named_line_manager_signs(
    programmes: Programmes,
    enrolment_ref: str,
    people: People,
    programme_engine: Engine,
) -> None:
    from accounts.service import grant_role
    from programmes.errors import ProgrammeError

    with Session(programme_engine) as session:
        grant_role(session, people.assessor2, "line_manager", "chelmer-valley")
        session.commit()
    add_all_evidence(programmes, enrolment_ref, "man-change", people)

    with pytest.raises(SignOffRejected, match="named line manager, account"):
        programmes.sign_off(
            enrolment_ref, "man-change", account_id=people.assessor2, rating="strong"
        )
    with pytest.raises(ProgrammeError, match="does not have the line-manager role"):
        programmes.name_person(
            enrolment_ref, role="line-manager", account_id=people.outsider
        )
    programmes.name_person(
        enrolment_ref, role="line-manager", account_id=people.assessor2
    )
    signed = programmes.sign_off(
        enrolment_ref, "man-change", account_id=people.assessor2, rating="strong"
    )

    assert not signed.signed_off
    assert signed.waiting_for is not None


def test_concurrent_enrolment_creates_one(
    programmes: Programmes, people: People
) -> None:
    import threading
    from datetime import date

    programmes.create_cohort(
        code="GLP-RACE",
        title="Race",
        lead_account_id=people.lead,
        lead_organisation="essex-vale-council",
        starts_on=date(2026, 9, 1),
    )
    barrier = threading.Barrier(2)
    references: list[str] = []
    errors: list[BaseException] = []

    def enrol() -> None:
        barrier.wait()
        try:
            enrolment = programmes.enrol_learner(
                cohort_code="GLP-RACE",
                learner_account_id=people.learner2,
                organisation="chelmer-valley",
                variant="nursing",
                assessor_account_id=people.assessor,
            )
            references.append(enrolment.reference)
        except BaseException as error:  # noqa: BLE001 - reported by the assert
            errors.append(error)

    threads = [threading.Thread(target=enrol) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(references)) == 1
    assert len(programmes.progress("GLP-RACE").learners) == 1
