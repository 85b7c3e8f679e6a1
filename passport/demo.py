"""The demo partnership: seven fictional issuers, demo accounts and an import.

Every organisation and person here is fictional. Seeding is idempotent:
organisations and accounts that exist are kept, and the import issues only
what was not issued before.
"""

import csv
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import click
from click._termui_impl import ProgressBar
from sqlmodel import Session, select

from accounts.models import Role, UserAccount
from accounts.passwords import hash_password
from issuer.esr_export import ExportRow, read_export
from issuer.models import Organisation, StaffRecord
from issuer.service import (
    ImportSummary,
    create_organisation,
    employee_reference,
    get_organisation,
    import_training_export,
    reference_secret,
)
from keys.store import KeyStore
from passport.db import make_engine, session_scope
from passport.settings import Settings

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
STAFF_ACCOUNTS = 2


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


def _ensure_account(
    session: Session,
    email: str,
    display_name: str,
    role: Role,
    organisation_slug: str | None,
    wallet_id: int | None = None,
) -> UserAccount:
    account = session.exec(
        select(UserAccount).where(UserAccount.email == email)
    ).first()
    if account is None:
        account = UserAccount(
            email=email,
            display_name=display_name,
            password_hash=hash_password(DEMO_PASSWORD),
            role=role.value,
            organisation_slug=organisation_slug,
            wallet_id=wallet_id,
        )
        session.add(account)
    return account


def _first_staff(path: Path, count: int) -> list[ExportRow]:
    people: dict[str, ExportRow] = {}
    for item in read_export(path, as_of=EXAMPLE_AS_OF):
        if isinstance(item, ExportRow) and item.employee_number not in people:
            people[item.employee_number] = item
            if len(people) == count:
                break
    return list(people.values())


def _email_for(name: str) -> str:
    ascii_name = name.encode("ascii", "ignore").decode().lower()
    return (
        ".".join(part for part in ascii_name.replace("'", "").split())
        + "@nhs-staff.example"
    )


def seed_demo(settings: Settings, *, echo: Callable[[str], None] = print) -> None:
    """Seed the partnership, import the example export and create demo sign-ins."""
    engine = make_engine(settings.database_url)
    key_store = KeyStore(settings.key_passphrase)
    secret = reference_secret(settings.key_passphrase)
    if not EXAMPLE_EXPORT.exists():
        raise click.ClickException(
            f"The example export {str(EXAMPLE_EXPORT)!r} is missing."
        )

    with session_scope(engine) as session:
        seed_partnership(session, key_store, settings.public_url)
    with session_scope(engine) as session:
        chelmer = get_organisation(session, "chelmer-valley")
        summary = import_training_export(
            session,
            key_store,
            chelmer,
            str(EXAMPLE_EXPORT),
            secret=secret,
            as_of=EXAMPLE_AS_OF,
        )
    echo(
        f"Imported {EXAMPLE_EXPORT.name}: {summary.issued} issued, "
        f"{summary.already_issued} already issued, {len(summary.rejected)} rejected."
    )

    sign_ins = []
    with session_scope(engine) as session:
        chelmer = get_organisation(session, "chelmer-valley")
        for row in _first_staff(EXAMPLE_EXPORT, STAFF_ACCOUNTS):
            reference = employee_reference(secret, chelmer, row.employee_number)
            record = session.exec(
                select(StaffRecord).where(
                    StaffRecord.organisation_id == chelmer.id,
                    StaffRecord.employee_ref_hash == reference,
                )
            ).one()
            email = _email_for(record.display_name)
            _ensure_account(
                session, email, record.display_name, Role.STAFF, None, record.wallet_id
            )
            sign_ins.append((f"staff ({record.display_name})", email))
        for email, name, role, slug in (HR_ACCOUNT, ADMIN_ACCOUNT):
            _ensure_account(session, email, name, role, slug)
            sign_ins.append((role.value.replace("_", " "), email))
    engine.dispose()

    echo(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
    for label, email in sign_ins:
        echo(f"  {label}: {email}")


def count_data_lines(path: Path) -> int:
    """Return the number of CSV records after the header (for a progress bar)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return max(sum(1 for _ in csv.reader(handle)) - 1, 0)


def run_import(org_slug: str, path: Path, *, as_of: date | None) -> ImportSummary:
    """Run ``passport issue``: import ``path`` for ``org_slug`` with a progress bar."""
    from issuer.esr_export import ExportFormatError
    from issuer.service import OrganisationNotFound

    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    key_store = KeyStore(settings.key_passphrase)
    total = count_data_lines(path)
    try:
        with session_scope(engine) as session:
            organisation = get_organisation(session, org_slug)
            progress_bar: ProgressBar[int] = click.progressbar(
                length=total, label="Importing", file=sys.stderr
            )
            with progress_bar as bar:
                seen = 0

                def advance(rows: int) -> None:
                    nonlocal seen
                    bar.update(rows - seen)
                    seen = rows

                return import_training_export(
                    session,
                    key_store,
                    organisation,
                    str(path),
                    secret=reference_secret(settings.key_passphrase),
                    as_of=as_of,
                    progress=advance,
                )
    except OrganisationNotFound as error:
        raise click.BadParameter(str(error), param_hint="--org") from error
    except ExportFormatError as error:
        raise click.BadParameter(str(error), param_hint="FILE") from error
    finally:
        engine.dispose()
