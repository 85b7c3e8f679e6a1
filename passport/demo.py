"""The demo partnership: seven fictional issuers, demo accounts and an import.

Every organisation and person here is fictional. Seeding is idempotent:
organisations and accounts that exist are kept, and the import issues only
what was not issued before.
"""

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import click
from sqlmodel import Session, select

from accounts.roles import Role, role_label
from accounts.service import create_account, find_account, grant_role
from issuer.esr_export import ExportRow, read_export
from issuer.models import Organisation, StaffRecord
from issuer.service import (
    accept_offer,
    create_claim_code,
    create_organisation,
    find_staff_record,
    get_organisation,
    import_training_export,
    redeem_claim_code,
    reference_secret,
)
from keys.store import KeyStore
from passport.db import make_engine, session_scope
from passport.settings import Settings
from verifier.hr_profiles import HR_ADMIN
from verifier.registry_admin import PARTNERSHIP_ADMIN
from verifier.registry_service import (
    add_platform_organisations,
    latest_published_registry,
    publish_registry,
)
from verifier.requirements import seed_profiles
from workflows.demo import seed_care_demo

EXAMPLE_EXPORT = (
    Path(__file__).resolve().parent.parent
    / "examples"
    / "esr_team_export_chelmer_valley.csv"
)
# The example export describes training as of this date; later completion
# dates in it are deliberate errors.
EXAMPLE_AS_OF = date(2026, 3, 31)
DEMO_PASSWORD = "demo-passport"


@dataclass(frozen=True)
class DemoOrganisation:
    slug: str
    name: str
    org_type: str
    cstf_aligned: bool
    esr_vpd_code: str | None


PARTNERSHIP = (
    DemoOrganisation(
        "chelmer-valley",
        "Chelmer Valley Hospitals NHS Foundation Trust",
        "acute trust",
        True,
        "901",
    ),
    DemoOrganisation(
        "colne-estuary",
        "Colne Estuary University Hospitals NHS Trust",
        "acute teaching trust",
        True,
        "902",
    ),
    DemoOrganisation(
        "blackwater-community",
        "Blackwater Community Health NHS Trust",
        "community services trust",
        True,
        "903",
    ),
    DemoOrganisation(
        "dengie-crouch",
        "Dengie & Crouch Partnership NHS Foundation Trust",
        "mental health trust",
        True,
        "904",
    ),
    DemoOrganisation(
        "thames-reach", "Thames Reach Hospital NHS Trust", "acute trust", False, "905"
    ),
    DemoOrganisation(
        "essex-vale-council",
        "Essex Vale County Council, Adult Social Care",
        "local authority",
        False,
        None,
    ),
    DemoOrganisation(
        "university-of-mersea", "University of Mersea", "university", False, None
    ),
)

HR_ACCOUNT = ("hr@colne-estuary.example", "Sam SAMPLE (HR)", Role.HR, "colne-estuary")
ADMIN_ACCOUNT = (
    "admin@chelmer-valley.example",
    "Alex DUMMY (issuer admin)",
    Role.ISSUER_ADMIN,
    "chelmer-valley",
)
PARTNERSHIP_ADMIN_ACCOUNT = (
    "registry@staff-passport.example",
    "Jo PLACEHOLDER (partnership admin)",
    PARTNERSHIP_ADMIN,
    None,
)
STAFF_ACCOUNTS = 2
# The demo partnership's members joined on this date, before any of their
# credentials were issued.
PARTNERSHIP_FROM = datetime(2020, 4, 1, tzinfo=UTC)


def seed_partnership(
    session: Session, key_store: KeyStore, base_url: str
) -> list[Organisation]:
    """Create each missing demo organisation with its own key and did:web."""
    organisations = []
    for member in PARTNERSHIP:
        existing = session.exec(
            select(Organisation).where(Organisation.slug == member.slug)
        ).first()
        organisations.append(
            existing
            or create_organisation(
                session,
                key_store,
                slug=member.slug,
                name=member.name,
                org_type=member.org_type,
                cstf_aligned=member.cstf_aligned,
                esr_vpd_code=member.esr_vpd_code,
                base_url=base_url,
            )
        )
    return organisations


def seed_registry(session: Session, key_store: KeyStore, settings: Settings) -> None:
    """List every demo organisation in the trust registry and publish it once.

    Each member's fetch origin is the platform's public origin, where its
    did:web document and status lists are served. Members that exist are
    kept as they are, and a registry already published is not published
    again.
    """
    add_platform_organisations(
        session,
        origin=settings.public_url,
        member_from=PARTNERSHIP_FROM,
        editor="system:demo",
    )
    if latest_published_registry(session) is None:
        publish_registry(
            session, key_store, now=datetime.now(UTC), editor="system:demo"
        )


def _ensure_account(
    session: Session,
    email: str,
    display_name: str,
    role: str,
    organisation_slug: str | None,
    wallet_id: int | None = None,
) -> None:
    account = find_account(session, email) or create_account(
        session,
        email=email,
        display_name=display_name,
        password=DEMO_PASSWORD,
        wallet_id=wallet_id,
    )
    assert account.id is not None
    grant_role(session, account.id, role, organisation_slug)


def _first_staff(path: Path, count: int) -> list[ExportRow]:
    people: dict[str, ExportRow] = {}
    for item in read_export(path, as_of=EXAMPLE_AS_OF):
        if isinstance(item, ExportRow) and item.employee_number not in people:
            people[item.employee_number] = item
            if len(people) == count:
                break
    return list(people.values())


def _email_for(name: str) -> str:
    """Return a demo address for ``name``: "Chloé O'NEILL" -> chloe.oneill@...

    Accented letters keep their base letter (NFKD splits off the accent as a
    combining mark); any other character outside ASCII letters and digits
    separates words.
    """
    decomposed = unicodedata.normalize("NFKD", name)
    base_letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    ascii_name = base_letters.encode("ascii", "ignore").decode().lower()
    words = "".join(c if c.isalnum() else " " for c in ascii_name.replace("'", ""))
    return ".".join(words.split()) + "@nhs-staff.example"


def seed_demo(settings: Settings, *, echo: Callable[[str], None] = print) -> None:
    """Seed the partnership, import the example export and create demo sign-ins.

    The first demo staff members claim their credentials into new wallets
    with claim codes, as staff would, and accept all but one, which waits in
    their wallet as an offer.
    """
    engine = make_engine(settings.database_url)
    key_store = KeyStore(settings.key_passphrase)
    secret = reference_secret(settings.key_passphrase)
    if not EXAMPLE_EXPORT.exists():
        raise click.ClickException(
            f"The example export {str(EXAMPLE_EXPORT)!r} is missing."
        )

    with session_scope(engine) as session:
        seed_partnership(session, key_store, settings.public_url)
        seed_registry(session, key_store, settings)
        seed_profiles(session)
    report = settings.data_dir / "reports" / "demo-import.csv"
    with session_scope(engine) as session:
        chelmer = get_organisation(session, "chelmer-valley")
        summary = import_training_export(
            session,
            key_store,
            chelmer,
            str(EXAMPLE_EXPORT),
            secret=secret,
            as_of=EXAMPLE_AS_OF,
            report_path=report,
            actor="system:demo",
        )
    echo(
        f"Imported {EXAMPLE_EXPORT.name}: {summary.issued} issued, "
        f"{summary.waiting} waiting for a wallet, {summary.already_issued} "
        f"already issued, {summary.rejected} rejected (see {report})."
    )

    sign_ins = []
    with session_scope(engine) as session:
        chelmer = get_organisation(session, "chelmer-valley")
        for row in _first_staff(EXAMPLE_EXPORT, STAFF_ACCOUNTS):
            record = find_staff_record(session, chelmer, secret, row.employee_number)
            if record.wallet_id is None:
                _claim_for_demo(session, key_store, settings, chelmer, record)
            email = _email_for(record.display_name)
            _ensure_account(
                session, email, record.display_name, Role.STAFF, None, record.wallet_id
            )
            sign_ins.append((f"staff ({record.display_name})", email))
        for email, name, role, slug in (
            HR_ACCOUNT,
            ADMIN_ACCOUNT,
            PARTNERSHIP_ADMIN_ACCOUNT,
        ):
            _ensure_account(session, email, name, role, slug)
            sign_ins.append((role_label(role).lower(), email))
        # The demo HR officer also edits the role profiles.
        email, name, _, slug = HR_ACCOUNT
        _ensure_account(session, email, name, HR_ADMIN, slug)
    seed_care_demo(
        engine,
        [email for label, email in sign_ins if label.startswith("staff")],
        echo=echo,
    )
    engine.dispose()

    echo(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
    for label, email in sign_ins:
        echo(f"  {label}: {email}")


def _claim_for_demo(
    session: Session,
    key_store: KeyStore,
    settings: Settings,
    organisation: Organisation,
    record: StaffRecord,
) -> None:
    """Claim a demo staff member's credentials into a new wallet."""
    new = create_claim_code(
        session, organisation, record, base_url=settings.public_url, actor="system:demo"
    )
    claimed = redeem_claim_code(
        session, key_store, new.code, wallet_id=None, actor="system:demo"
    )
    for credential_id in claimed.offered[:-1]:
        accept_offer(session, claimed.wallet_id, credential_id, actor="system:demo")
