"""The programmes service API: cohorts, enrolments, evidence and sign-off.

Other packages, the pages and the CLI call :class:`Programmes` only. Each
method runs in its own transaction and returns a read model or the row it
created; nothing here imports Flask. The methods, in the order a programme
uses them:

- :meth:`Programmes.create_cohort` and :meth:`Programmes.enrol_learner`
  (which starts the learner's review workflow on the engine), and
  :meth:`Programmes.name_person` to change the named assessor or line
  manager;
- :meth:`Programmes.add_evidence` (text, or a checked file);
- :meth:`Programmes.sign_off`, :meth:`Programmes.return_competency` and
  :meth:`Programmes.withdraw_sign_off`;
- :meth:`Programmes.process_completion`, which issues the credentials and is
  safe to call again for the same event;
- :meth:`Programmes.count_prior_learning` (recognition of prior learning);
- :meth:`Programmes.portfolio`, :meth:`Programmes.assessor_queue` and
  :meth:`Programmes.progress` for reading.

Every change is recorded in the hash-chained audit log with ids, plus the
reason given when a sign-off is withdrawn.
"""

import logging
import secrets
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from accounts.roles import Role
from accounts.service import grant_role
from audit.log import record_event
from keys.store import KeyStore
from programmes import decisions, prior_learning
from programmes.completion import DONE_STATUSES, issue_for
from programmes.decisions import actor_of
from programmes.errors import (
    EvidenceRejected,
    NotFound,
    PriorLearningRejected,
    ProgrammeError,
    SignOffRejected,
)
from programmes.evidence import CheckedFile, check_file, remove_file, store_file
from programmes.framework import (
    DEFAULT_FRAMEWORK,
    Competency,
    Framework,
    bundled_framework,
)
from programmes.lookup import (
    cohort_of,
    find_cohort,
    find_enrolment,
    framework_of,
    get_cohort,
    get_enrolment,
    grants_of,
    locate,
    signatures_of,
)
from programmes.models import (
    CompetencyRecord,
    EvidenceItem,
    ProgrammeCohort,
    ProgrammeEnrolment,
)
from programmes.progress import (
    CohortProgress,
    QueueItem,
    cohort_progress,
    queue_for,
)
from programmes.read_models import Portfolio, SignOffResult, portfolio_of
from programmes.roles import (
    ACCOUNT_ROLES,
    ASSESSOR,
    LEARNER,
    LEARNER_ROLE,
    LINE_MANAGER,
    PROGRAMME_LEAD,
    PROGRAMME_LEAD_ROLE,
)
from programmes.signoff import held_roles
from workflows.clock import Clock, SystemClock
from workflows.engine import WorkflowEngine
from workflows.routing import add_membership

logger = logging.getLogger(__name__)
T = TypeVar("T")

MAX_TEXT = 20_000
"""The maximum length of text evidence, in characters."""

__all__ = [
    "CohortProgress",
    "EvidenceRejected",
    "NotFound",
    "Portfolio",
    "PriorLearningRejected",
    "ProgrammeError",
    "Programmes",
    "QueueItem",
    "SignOffRejected",
    "SignOffResult",
]


def new_reference() -> str:
    """Return a random pseudonymous enrolment reference such as ``LP-7KQ2MX4T``.

    Eight letters and digits from an alphabet without 0, 1, I and O, so
    never the ten digits in a row that the workflow engine rejects as
    NHS-number-like.
    """
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "LP-" + "".join(secrets.choice(alphabet) for _ in range(8))


class Programmes:
    """Programme operations over one database.

    :param data_dir: the platform's data folder; evidence files go under it.
    :param workflows: the engine that runs the review workflows (default:
        one over ``engine`` with the same clock).
    """

    def __init__(
        self,
        engine: Engine,
        key_store: KeyStore,
        *,
        data_dir: Path,
        workflows: WorkflowEngine | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.engine = engine
        self.key_store = key_store
        self.data_dir = data_dir
        self.clock = clock or SystemClock()
        self.workflows = workflows or WorkflowEngine(engine, clock=self.clock)

    # -- transactions -----------------------------------------------------

    def transact(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in a transaction, retrying a few times when the
        database is busy or a concurrent insert took a unique key first.

        Every ``work`` reads before it writes, so a retry finds what the
        other transaction committed (an enrolment, a signature) and acts on
        it, or rejects the request with the reason.
        """
        attempts = 5
        for attempt in range(1, attempts + 1):
            with Session(self.engine, expire_on_commit=False) as session:
                try:
                    result = work(session)
                    session.commit()
                    return result
                except IntegrityError:
                    session.rollback()
                    if attempt == attempts:
                        raise
                except OperationalError as error:
                    session.rollback()
                    busy = "locked" in str(error) or "deadlock" in str(error)
                    if not busy or attempt == attempts:
                        raise
                logger.info("programme transaction retried, attempt %s", attempt)
        raise AssertionError("unreachable")

    # -- cohorts and enrolments ----------------------------------------------

    def create_cohort(
        self,
        *,
        code: str,
        title: str,
        lead_account_id: int,
        lead_organisation: str,
        starts_on: date,
        university: str | None = None,
        framework_id: str = DEFAULT_FRAMEWORK,
        framework: Framework | None = None,
        actor: str = "system",
    ) -> ProgrammeCohort:
        """Create a cohort, or return the one with ``code`` when it exists.

        The cohort's framework version is published on the workflow engine,
        which runs its reviews. The lead is granted the programme lead role
        at ``lead_organisation``.

        :param framework_id: a bundled framework to follow.
        :param framework: a framework read elsewhere (see
            :func:`programmes.framework.read_framework`), instead of a
            bundled one.
        :raises ProgrammeError: when the code is taken by another lead.
        :raises DefinitionConflict: when the framework's id and version are
            published with other content.
        """
        framework = framework or bundled_framework(framework_id)
        self.workflows.publish(framework.definition)

        def work(session: Session) -> ProgrammeCohort:
            existing = find_cohort(session, code)
            if existing is not None:
                if existing.lead_account_id != lead_account_id:
                    raise ProgrammeError(
                        f"Cohort {code!r} exists with another lead; choose "
                        "another code."
                    )
                return existing
            cohort = ProgrammeCohort(
                code=code,
                title=title,
                framework_id=framework.id,
                framework_version=framework.version,
                lead_account_id=lead_account_id,
                lead_organisation=lead_organisation,
                university=university,
                starts_on=starts_on,
                created_at=self.clock.now(),
            )
            session.add(cohort)
            session.flush()
            grant_role(session, lead_account_id, PROGRAMME_LEAD_ROLE, lead_organisation)
            record_event(
                session,
                "programme.cohort-created",
                actor=actor,
                organisation=lead_organisation,
                target=f"cohort:{cohort.id}",
                details={"code": code, "framework": framework.id},
                at=self.clock.now(),
            )
            return cohort

        return self.transact(work)

    def enrol_learner(
        self,
        *,
        cohort_code: str,
        learner_account_id: int,
        organisation: str,
        variant: str,
        assessor_account_id: int,
        entry_route: str = "newly-qualified",
        line_manager_account_id: int | None = None,
        starts_on: date | None = None,
        actor: str = "system",
    ) -> ProgrammeEnrolment:
        """Enrol a learner, or return the enrolment they already have.

        Creates a competency record for each competency of the variant,
        grants the learner role, gives the named assessor and the cohort's
        lead task memberships at the employer, and starts the review
        workflow. Calling it again finishes an enrolment whose workflow
        did not start.

        :raises ProgrammeError: for an unknown variant or entry route, when
            the learner is named as their own assessor or line manager, or
            when a named person does not have that role at the employer.
        """

        def work(session: Session) -> ProgrammeEnrolment:
            cohort = get_cohort(session, cohort_code)
            existing = session.exec(
                select(ProgrammeEnrolment).where(
                    ProgrammeEnrolment.cohort_id == cohort.id,
                    ProgrammeEnrolment.learner_account_id == learner_account_id,
                )
            ).first()
            if existing is not None:
                return existing

            framework = framework_of(session, cohort)
            _check_enrolment(
                session,
                framework,
                organisation=organisation,
                variant=variant,
                entry_route=entry_route,
                learner_account_id=learner_account_id,
                named={
                    ASSESSOR: assessor_account_id,
                    LINE_MANAGER: line_manager_account_id,
                },
            )
            assert cohort.id is not None
            enrolment = ProgrammeEnrolment(
                reference=new_reference(),
                cohort_id=cohort.id,
                learner_account_id=learner_account_id,
                organisation=organisation,
                variant=variant,
                entry_route=entry_route,
                starts_on=starts_on or cohort.starts_on,
                assessor_account_id=assessor_account_id,
                line_manager_account_id=line_manager_account_id,
                created_at=self.clock.now(),
            )
            session.add(enrolment)
            session.flush()
            assert enrolment.id is not None
            for competency in framework.competencies_for(variant):
                session.add(
                    CompetencyRecord(
                        enrolment_id=enrolment.id,
                        competency=competency.id,
                        updated_at=self.clock.now(),
                    )
                )

            grant_role(session, learner_account_id, LEARNER_ROLE, organisation)
            # Staff sign in to their wallet, where the credentials arrive.
            grant_role(session, learner_account_id, Role.STAFF)
            # Review tasks route to the assessor at the employer, in the
            # cohort's team, and escalate to the programme lead there.
            for account_id, role in (
                (assessor_account_id, ASSESSOR),
                (cohort.lead_account_id, PROGRAMME_LEAD),
            ):
                add_membership(
                    session,
                    account_id=account_id,
                    organisation=organisation,
                    role=role,
                    team=cohort.code,
                )

            logger.info(
                "programme enrolment %s cohort=%s organisation=%s variant=%s",
                enrolment.reference,
                cohort.code,
                organisation,
                variant,
            )
            record_event(
                session,
                "programme.learner-enrolled",
                actor=actor,
                organisation=organisation,
                target=f"enrolment:{enrolment.reference}",
                details={"cohort": cohort.code, "variant": variant},
                at=self.clock.now(),
            )
            return enrolment

        enrolment = self.transact(work)
        if enrolment.review_instance_id is None:
            enrolment = self._start_reviews(enrolment, cohort_code)
        return enrolment

    def name_person(
        self, reference: str, *, role: str, account_id: int, actor: str = "system"
    ) -> ProgrammeEnrolment:
        """Name the learner's assessor or line manager, replacing the earlier one.

        Signatures already given stay. From now on, where a rule names the
        role, only the newly named person signs. The earlier assessor keeps
        the cohort's review tasks at the employer, because they may assess
        other learners of the cohort there.

        :raises ProgrammeError: for another role, the learner themself, or
            an account without the role at the employer.
        """
        if role not in (ASSESSOR, LINE_MANAGER):
            raise ProgrammeError(
                f"Role {role!r} is not named per learner; name an {ASSESSOR} or a "
                f"{LINE_MANAGER}."
            )

        def work(session: Session) -> ProgrammeEnrolment:
            enrolment = get_enrolment(session, reference, lock=True)
            cohort = cohort_of(session, enrolment)
            check_named(
                session,
                enrolment.organisation,
                enrolment.learner_account_id,
                {role: account_id},
            )
            if role == ASSESSOR:
                enrolment.assessor_account_id = account_id
                add_membership(
                    session,
                    account_id=account_id,
                    organisation=enrolment.organisation,
                    role=ASSESSOR,
                    team=cohort.code,
                )
            else:
                enrolment.line_manager_account_id = account_id
            session.add(enrolment)
            record_event(
                session,
                "programme.person-named",
                actor=actor,
                organisation=enrolment.organisation,
                target=f"enrolment:{reference}",
                details={"role": role, "account": account_id},
                at=self.clock.now(),
            )
            return enrolment

        return self.transact(work)

    def _start_reviews(
        self, enrolment: ProgrammeEnrolment, cohort_code: str
    ) -> ProgrammeEnrolment:
        with Session(self.engine) as session:
            cohort = get_cohort(session, cohort_code)
        started = self.workflows.start(
            cohort.framework_id,
            version=cohort.framework_version,
            business_key=f"programme-enrolment:{enrolment.reference}",
            subject_ref=enrolment.reference,
            organisations={"employer": enrolment.organisation},
            teams={"employer": cohort.code},
            data={
                "start_date": enrolment.starts_on.isoformat(),
                "entry_route": enrolment.entry_route,
                "variant": enrolment.variant,
            },
        )

        def work(session: Session) -> ProgrammeEnrolment:
            row = get_enrolment(session, enrolment.reference)
            row.review_instance_id = started.instance_id
            session.add(row)
            return row

        return self.transact(work)

    # -- evidence -----------------------------------------------------------

    def add_evidence(
        self,
        reference: str,
        competency: str,
        *,
        account_id: int,
        evidence_type: str,
        title: str,
        text: str | None = None,
        file_name: str | None = None,
        content: bytes | None = None,
    ) -> EvidenceItem:
        """Add text or a file as evidence for a competency.

        Everything is checked before the file is written. The evidence type
        must belong to the competency, and the account must be the learner
        or have a role the type lists, now, at the right organisation. A
        file must pass the type, size and content checks.

        :raises EvidenceRejected: naming the reason; nothing is stored.
        """
        title = " ".join((title or "").split())
        if not 1 <= len(title) <= 200:
            raise EvidenceRejected("A title of 1 to 200 characters is required.")

        def check(
            session: Session, lock: bool = False
        ) -> tuple[str, str, CompetencyRecord]:
            enrolment, cohort, record, item = locate(
                session, reference, competency, lock=lock
            )
            framework = framework_of(session, cohort)
            if evidence_type not in item.evidence:
                raise EvidenceRejected(
                    f"Competency {competency!r} takes evidence of types "
                    f"{', '.join(item.evidence)}, not {evidence_type!r}."
                )
            if record.status in DONE_STATUSES:
                raise EvidenceRejected(
                    f"Competency {competency!r} is already {record.status}; "
                    "evidence cannot be added to it."
                )
            kind = framework.evidence_types[evidence_type]
            role = self._contributor_role(
                session, account_id, kind.added_by, item, enrolment, cohort
            )
            if role is None:
                raise EvidenceRejected(
                    f"Evidence of type {evidence_type!r} is added by "
                    f"{', '.join(kind.added_by)}; account {account_id} is none of "
                    "these for this learner."
                )
            return kind.kind, role, record

        kind, _, _ = self.transact(check)
        body = _checked_body(kind, evidence_type, text, file_name, content)
        storage_name = None
        if isinstance(body, CheckedFile):
            storage_name = store_file(self.data_dir, body)

        def work(session: Session) -> EvidenceItem:
            # Checked again under the lock: a sign-off or a role removed
            # since the first check rejects the evidence.
            _, role, record = check(session, lock=True)
            assert record.id is not None
            item = EvidenceItem(
                record_id=record.id,
                evidence_type=evidence_type,
                title=title,
                added_by_account_id=account_id,
                added_by_role=role,
                added_at=self.clock.now(),
            )
            if isinstance(body, CheckedFile):
                item.file_name = body.file_name
                item.content_type = body.content_type
                item.size_bytes = len(body.content)
                item.storage_name = storage_name
                item.sha256 = body.sha256
            else:
                item.text = body
            session.add(item)
            session.flush()
            record_event(
                session,
                "programme.evidence-added",
                actor=actor_of(account_id),
                target=f"evidence:{item.id}",
                details={
                    "enrolment": reference,
                    "competency": competency,
                    "type": evidence_type,
                },
                at=self.clock.now(),
            )
            return item

        try:
            return self.transact(work)
        except BaseException:
            if storage_name is not None:
                remove_file(self.data_dir, storage_name)
            raise

    def _contributor_role(
        self,
        session: Session,
        account_id: int,
        roles: tuple[str, ...],
        competency: Competency,
        enrolment: ProgrammeEnrolment,
        cohort: ProgrammeCohort,
    ) -> str | None:
        if account_id == enrolment.learner_account_id:
            return LEARNER if LEARNER in roles else None
        staff_roles = [role for role in roles if role != LEARNER]
        current = held_roles(
            session, account_id, staff_roles, competency, enrolment, cohort
        )
        return current[0] if current else None

    def evidence_file(self, evidence_id: int, *, account_id: int) -> EvidenceItem:
        """Return an evidence file's row if the account may download it: the
        learner, or anyone holding a programme role for the learner.

        :raises NotFound: when there is no such file or the account may not
            see it (the same error, so ids reveal nothing).
        """
        with Session(self.engine) as session:
            item = session.get(EvidenceItem, evidence_id)
            if item is None or item.storage_name is None:
                raise NotFound(f"No evidence file {evidence_id}.")
            record = session.get(CompetencyRecord, item.record_id)
            assert record is not None
            enrolment = session.get(ProgrammeEnrolment, record.enrolment_id)
            assert enrolment is not None
            if not self._may_see(session, account_id, enrolment):
                raise NotFound(f"No evidence file {evidence_id}.")
            return item

    def _may_see(
        self, session: Session, account_id: int, enrolment: ProgrammeEnrolment
    ) -> bool:
        if account_id == enrolment.learner_account_id:
            return True
        cohort = session.get(ProgrammeCohort, enrolment.cohort_id)
        assert cohort is not None
        framework = framework_of(session, cohort)
        staff = [role for role in ACCOUNT_ROLES if role != LEARNER]
        return any(
            held_roles(session, account_id, staff, competency, enrolment, cohort)
            for competency in framework.competencies_for(enrolment.variant)
        )

    # -- sign-off -------------------------------------------------------------

    def sign_off(
        self,
        reference: str,
        competency: str,
        *,
        account_id: int,
        rating: str | None = None,
        comment: str | None = None,
        role: str | None = None,
    ) -> SignOffResult:
        """Record the account's signature on a competency.

        The competency is signed off when the round's signatures meet its
        rule. Its credential, and the programme's once every competency is
        done, are issued in the same transaction.

        :param rating: the Healthcare Leadership Model rating; required for
            a managerial or personal competency, at least its expected one.
        :param role: the role to sign in, for an account holding several.
        :raises SignOffRejected: naming the reason: the learner's own, a
            second signature, a role not held now, missing evidence, a
            missing or low rating, or a competency that is not open.
        """
        text = decisions.clean_comment(comment)
        return self.transact(
            lambda session: decisions.sign(
                session,
                self.key_store,
                self.clock.now(),
                reference=reference,
                competency=competency,
                account_id=account_id,
                rating=rating,
                comment=text,
                role=role,
            )
        )

    def return_competency(
        self, reference: str, competency: str, *, account_id: int, comment: str
    ) -> SignOffResult:
        """Return an open competency to the learner with a comment.

        Signatures already given in the round stay recorded but no longer
        count: the competency starts a new round.

        :raises SignOffRejected: when the account may not sign it, or gave
            no comment, or the competency is not open.
        """
        text = decisions.clean_comment(comment)
        if not text:
            raise SignOffRejected(
                "A comment is required to return a competency; say what the "
                "learner should add or change."
            )
        return self.transact(
            lambda session: decisions.return_competency(
                session,
                self.clock.now(),
                reference=reference,
                competency=competency,
                account_id=account_id,
                text=text,
            )
        )

    def withdraw_sign_off(
        self, reference: str, competency: str, *, account_id: int, reason: str
    ) -> SignOffResult:
        """Withdraw a competency's sign-off: reopen it and revoke its
        credential (and the programme's, if it was issued).

        One of the signers or the cohort's programme lead may withdraw. The
        signatures keep their rows, marked withdrawn with the reason.

        :raises SignOffRejected: when the competency is not signed off, the
            reason is blank or the account may not withdraw it.
        """
        text = decisions.clean_comment(reason)
        if not text:
            raise SignOffRejected("A reason is required to withdraw a sign-off.")
        return self.transact(
            lambda session: decisions.withdraw(
                session,
                self.key_store,
                self.clock.now(),
                reference=reference,
                competency=competency,
                account_id=account_id,
                text=text,
            )
        )

    # -- credentials --------------------------------------------------------

    def process_completion(
        self, reference: str, competency: str | None = None
    ) -> list[str]:
        """Issue the credentials a completion earns, once however often it runs.

        :param competency: the competency signed off; None checks only the
            programme's completion.
        :returns: the ids of the credentials for the event (issued now or
            before).
        """

        def work(session: Session) -> list[str]:
            enrolment = get_enrolment(session, reference, lock=True)
            cohort = cohort_of(session, enrolment)
            rows = issue_for(
                session, self.key_store, enrolment, cohort, competency, self.clock.now()
            )
            return [row.credential_id for row in rows]

        return self.transact(work)

    # -- recognition of prior learning ----------------------------------------

    def count_prior_learning(
        self,
        reference: str,
        credential: dict[str, Any],
        *,
        account_id: int,
        verification_sources: dict[str, Any],
    ) -> str:
        """Count a verified competency credential from an earlier programme.

        The cohort's programme lead verifies the credential with the
        verifier, which reads ``verification_sources`` from the platform and
        never the network. The competency is then marked ``counted`` instead
        of being repeated.

        :returns: the competency counted.
        :raises PriorLearningRejected: when the credential does not verify,
            is revoked, names another holder or no competency of the
            programme, or the account is not the cohort's lead.
        """
        prior_learning.check_verified(
            credential, self.clock.now(), verification_sources
        )
        return self.transact(
            lambda session: prior_learning.count(
                session,
                self.key_store,
                self.clock.now(),
                reference=reference,
                credential=credential,
                account_id=account_id,
            )
        )

    # -- reading ------------------------------------------------------------

    def portfolio(self, reference: str) -> Portfolio:
        """Return a learner's portfolio: competencies, evidence, status and
        what is due next."""
        with Session(self.engine) as session:
            enrolment = get_enrolment(session, reference)
            cohort = session.get(ProgrammeCohort, enrolment.cohort_id)
            assert cohort is not None
            return portfolio_of(
                session,
                framework_of(session, cohort),
                cohort,
                enrolment,
                self.clock.now(),
            )

    def framework_for(self, reference: str) -> Framework:
        """Return the framework of an enrolment's cohort."""
        with Session(self.engine) as session:
            enrolment = get_enrolment(session, reference)
            cohort = session.get(ProgrammeCohort, enrolment.cohort_id)
            assert cohort is not None
            return framework_of(session, cohort)

    def enrolments_of(self, account_id: int) -> list[ProgrammeEnrolment]:
        """Return the account's own enrolments, newest first."""
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(ProgrammeEnrolment)
                    .where(ProgrammeEnrolment.learner_account_id == account_id)
                    .order_by(col(ProgrammeEnrolment.id).desc())
                )
            )

    def withdrawable(self, account_id: int, reference: str) -> frozenset[str]:
        """Return the ids of the enrolment's signed-off competencies whose
        sign-off the account may withdraw (the rule of
        :meth:`withdraw_sign_off`)."""
        with Session(self.engine) as session:
            enrolment = get_enrolment(session, reference)
            cohort = cohort_of(session, enrolment)
            records = session.exec(
                select(CompetencyRecord).where(
                    CompetencyRecord.enrolment_id == enrolment.id,
                    CompetencyRecord.status == "signed-off",
                )
            )
            return frozenset(
                record.competency
                for record in records
                if decisions.may_withdraw(
                    session, account_id, cohort, signatures_of(session, record)
                )
            )

    def may_see(self, account_id: int, reference: str) -> bool:
        """Return whether the account is the learner or has a programme role
        for them."""
        with Session(self.engine) as session:
            enrolment = find_enrolment(session, reference)
            return enrolment is not None and self._may_see(
                session, account_id, enrolment
            )

    def assessor_queue(self, account_id: int) -> list[QueueItem]:
        """Return the competencies waiting for this account's signature: all
        evidence in, open, not yet signed by it, and a role it has now."""
        with Session(self.engine) as session:
            return queue_for(session, account_id, framework_of, self.clock.now())

    def progress(self, cohort_code: str) -> CohortProgress:
        """Return per-learner and cohort figures for a cohort."""
        with Session(self.engine) as session:
            cohort = get_cohort(session, cohort_code)
            return cohort_progress(
                session, framework_of(session, cohort), cohort, self.clock.now()
            )


def _checked_body(
    kind: str,
    evidence_type: str,
    text: str | None,
    file_name: str | None,
    content: bytes | None,
) -> CheckedFile | str:
    """Return the checked file, or the stripped text, of new evidence.

    :raises EvidenceRejected: for a missing or invalid file, or text that
        is empty or too long.
    """
    if kind == "file":
        if content is None or file_name is None:
            raise EvidenceRejected(
                f"Evidence of type {evidence_type!r} is a file; upload one."
            )
        return check_file(file_name, content)
    body = (text or "").strip()
    if not body or len(body) > MAX_TEXT:
        raise EvidenceRejected(
            f"Evidence of type {evidence_type!r} is text of 1 to "
            f"{MAX_TEXT} characters; write it in the text box."
        )
    return body


def _check_enrolment(
    session: Session,
    framework: Framework,
    *,
    organisation: str,
    variant: str,
    entry_route: str,
    learner_account_id: int,
    named: dict[str, int | None],
) -> None:
    if variant not in framework.variants:
        raise ProgrammeError(
            f"Variant {variant!r} is not one of {sorted(framework.variants)}."
        )
    if entry_route not in framework.entry_routes:
        raise ProgrammeError(
            f"Entry route {entry_route!r} is not one of "
            f"{sorted(framework.entry_routes)}."
        )
    check_named(session, organisation, learner_account_id, named)


def check_named(
    session: Session,
    organisation: str,
    learner_account_id: int,
    named: dict[str, int | None],
) -> None:
    """Check that each named person is not the learner and has the role at
    the employer. Naming someone grants nothing: an administrator grants
    the role.

    :raises ProgrammeError: naming the person and the missing role.
    """
    for role, account_id in named.items():
        if account_id is None:
            continue
        if account_id == learner_account_id:
            raise ProgrammeError(
                f"Account {learner_account_id} cannot be their own {role}; name "
                "another person."
            )
        if (ACCOUNT_ROLES[role], organisation) not in grants_of(session, account_id):
            raise ProgrammeError(
                f"Account {account_id} does not have the {role} role at "
                f"{organisation!r}; grant role {ACCOUNT_ROLES[role]!r} there first."
            )
