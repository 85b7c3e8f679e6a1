"""``passport orgs`` and ``passport keys``: issuers and their keys.

The commands read ``DATABASE_URL``, ``PASSPORT_DATA_DIR`` and
``PASSPORT_KEY_PASSPHRASE`` like the rest of the ``passport`` command, and
record what they change in the audit log under the operating-system user.
"""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click._termui_impl import ProgressBar
from sqlmodel import Session

from audit.log import command_line_actor
from issuer.api_tokens import create_api_token, list_api_tokens, revoke_api_token
from issuer.delivery import (
    CLAIM_CODE_LIFETIME,
    create_claim_code,
    find_staff_record,
    write_claim_qr,
)
from issuer.errors import IssuerError, OrganisationNotFound
from issuer.esr_export import ExportFormatError
from issuer.importer import (
    BATCH_SIZE,
    ImportSummary,
    import_training_export,
    local_competences,
    map_local_competence,
    reference_secret,
)
from issuer.organisations import (
    compromised_key_credentials,
    did_document,
    get_organisation,
    list_organisations,
    mark_key_compromised,
    rotate_key,
)
from issuer.signing import organisation_dids
from issuer.status_lists import REINSTATE, REVOKE, SUSPEND, change_status
from keys.history import methods_of

if TYPE_CHECKING:
    from passport.app import Platform


@contextmanager
def platform_session() -> Iterator[tuple["Platform", Session]]:
    """Yield the platform services and a session that commits on success.

    Issuer errors become command-line errors that name the problem.
    """
    from passport.app import command_platform
    from passport.db import session_scope

    with command_platform() as services:
        try:
            with session_scope(services.engine) as session:
                yield services, session
        except OrganisationNotFound as error:
            raise click.BadParameter(str(error), param_hint="--org") from error
        except IssuerError as error:
            raise click.ClickException(str(error)) from error


def parse_instant(value: str, option: str) -> datetime:
    """Parse an ISO 8601 instant with a time zone, or raise a usage error."""
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 instant with a time zone; write "
            "one such as 2026-04-01T09:30:00Z.",
            param_hint=option,
        )
    return instant.astimezone(UTC)


org_option = click.option(
    "--org", "org_slug", required=True, help="Slug of the organisation."
)


@click.group()
def orgs() -> None:
    """List the issuing organisations and their DIDs."""


@orgs.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def orgs_list_command(as_json: bool) -> None:
    """Print each organisation's slug, name and DIDs (did:web first)."""
    with platform_session() as (_, session):
        rows = [
            {
                "slug": organisation.slug,
                "name": organisation.name,
                "did": organisation.did,
                "dids": organisation_dids(organisation),
                "verification_method": organisation.verification_method_id,
            }
            for organisation in list_organisations(session)
        ]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for row in rows:
        click.echo(f"{row['slug']}: {row['name']}")
        for did in row["dids"]:
            click.echo(f"  {did}")


@orgs.command("did-document")
@org_option
def orgs_did_document_command(org_slug: str) -> None:
    """Print the organisation's DID document as the platform serves it."""
    with platform_session() as (_, session):
        document = did_document(session, get_organisation(session, org_slug))
    click.echo(json.dumps(document, indent=2))


@click.group()
def keys() -> None:
    """Rotate an organisation's signing key and mark keys compromised."""


@keys.command("list")
@org_option
def keys_list_command(org_slug: str) -> None:
    """Print every key of the organisation with its state."""
    with platform_session() as (_, session):
        organisation = get_organisation(session, org_slug)
        for did in organisation_dids(organisation):
            for record in methods_of(session, did):
                click.echo(f"{record.id}: {_method_state(record)}")


def _method_state(record: Any) -> str:
    states = [f"active from {record.activated_at.isoformat()}"]
    if record.controller.startswith("did:key:"):
        states.append("the did:key name of the first key")
    elif record.retired_at is not None:
        states.append(f"retired {record.retired_at.isoformat()}")
    else:
        states.append("signs new credentials")
    if record.compromised_at is not None:
        states.append(f"COMPROMISED from {record.compromised_at.isoformat()}")
    return ", ".join(states)


@keys.command("rotate")
@org_option
def keys_rotate_command(org_slug: str) -> None:
    """Replace the organisation's signing key with a new one.

    The old key stays in the DID document's assertionMethod, so credentials
    it signed keep verifying.
    """
    with platform_session() as (services, session):
        organisation = get_organisation(session, org_slug)
        old = organisation.verification_method_id
        new = rotate_key(
            session, services.key_store, organisation, actor=command_line_actor()
        )
    click.echo(f"Rotated {org_slug}: {new.id} signs from now on; {old} is retired.")


@keys.command("compromise")
@org_option
@click.option("--key", "method_id", required=True, help="Verification method id.")
@click.option(
    "--since",
    required=True,
    help="Instant from which the key is untrusted, e.g. 2026-04-01T09:30:00Z.",
)
@click.option("--reason", required=True, help="Why the key is compromised.")
def keys_compromise_command(
    org_slug: str, method_id: str, since: str, reason: str
) -> None:
    """Mark a key compromised and list the credentials to reissue.

    Proofs the key made from SINCE on fail verification. If it is the
    current key, a new key is rotated in first.
    """
    instant = parse_instant(since, "--since")
    with platform_session() as (services, session):
        organisation = get_organisation(session, org_slug)
        result = mark_key_compromised(
            session,
            services.key_store,
            organisation,
            method_id,
            since=instant,
            reason=reason,
            actor=command_line_actor(),
        )
    click.echo(f"Marked compromised: {', '.join(result.method_ids)}.")
    if result.new_method_id:
        click.echo(f"Rotated in {result.new_method_id}.")
    _echo_affected(result.affected_credential_ids)


@keys.command("affected")
@org_option
def keys_affected_command(org_slug: str) -> None:
    """List credentials signed by a compromised key after its compromise."""
    with platform_session() as (_, session):
        affected = compromised_key_credentials(
            session, get_organisation(session, org_slug)
        )
    _echo_affected(affected)


def _echo_affected(credential_ids: list[str]) -> None:
    click.echo(f"{len(credential_ids)} credentials to reissue:")
    for credential_id in credential_ids:
        click.echo(f"  {credential_id}")


@click.group("credentials")
def credentials_group() -> None:
    """Revoke, suspend and reinstate issued credentials."""


def _status_command(action: str, summary: str) -> click.Command:
    @click.command(action, help=summary)
    @org_option
    @click.option("--reason", required=True, help="Why, for the audit log.")
    @click.argument("credential_id")
    def command(org_slug: str, reason: str, credential_id: str) -> None:
        with platform_session() as (services, session):
            organisation = get_organisation(session, org_slug)
            change = change_status(
                session,
                services.key_store,
                organisation,
                credential_id,
                action,
                reason=reason,
                actor=command_line_actor(),
            )
        click.echo(
            f"{credential_id}: {action} applied; {change.purpose} list "
            f"{change.list_url} index {change.index} updated and signed again."
        )

    return command


credentials_group.add_command(
    _status_command(
        REVOKE,
        "Revoke CREDENTIAL_ID for good; revocation cannot be undone.",
    )
)
credentials_group.add_command(
    _status_command(SUSPEND, "Suspend CREDENTIAL_ID until it is reinstated.")
)
credentials_group.add_command(
    _status_command(REINSTATE, "Lift the suspension of CREDENTIAL_ID.")
)


def run_import(
    org_slug: str,
    path: Path,
    *,
    as_of: date | None,
    report_path: Path | None,
    workers: int,
    batch_size: int = BATCH_SIZE,
) -> ImportSummary:
    """Run ``passport issue``: import ``path`` with a progress bar and a report.

    :raises click.BadParameter: for an unknown organisation or a file that
        is not a training export.
    """
    from passport.app import command_platform

    total = path.stat().st_size
    with command_platform() as services:
        settings = services.settings
        if report_path is None:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            report_path = settings.data_dir / "reports" / f"{path.stem}-{stamp}.csv"
        with Session(services.engine, expire_on_commit=False) as session:
            try:
                organisation = get_organisation(session, org_slug)
            except OrganisationNotFound as error:
                raise click.BadParameter(str(error), param_hint="--org") from error
            bar: ProgressBar[int] = click.progressbar(
                length=total, label="Importing", file=sys.stderr
            )
            with bar:
                done = 0

                def advance(rows: int, bytes_read: int) -> None:
                    nonlocal done
                    bar.update(bytes_read - done)
                    done = bytes_read

                try:
                    summary = import_training_export(
                        session,
                        services.key_store,
                        organisation,
                        path,
                        secret=reference_secret(settings.key_passphrase),
                        as_of=as_of,
                        report_path=report_path,
                        progress=advance,
                        actor=command_line_actor(),
                        workers=workers,
                        batch_size=batch_size,
                    )
                except ExportFormatError as error:
                    raise click.BadParameter(str(error), param_hint="FILE") from error

    for example in summary.examples:
        click.echo(example, err=True)
    hidden = summary.rejected + summary.warnings - len(summary.examples)
    if hidden > 0:
        click.echo(f"... and {hidden} more in the report.", err=True)
    click.echo(
        f"Read {summary.rows_read} rows: issued {summary.issued}, waiting for a "
        f"wallet {summary.waiting}, already issued {summary.already_issued}, "
        f"rejected {summary.rejected}, warnings {summary.warnings}; "
        f"{summary.staff_added} new staff, {summary.superseded} older credentials "
        f"superseded. Report: {report_path}"
    )
    return summary


@orgs.command("map-competence")
@org_option
@click.argument("competence_name")
@click.argument("subject_code")
def orgs_map_competence_command(
    org_slug: str, competence_name: str, subject_code: str
) -> None:
    """Count the local COMPETENCE_NAME as the CSTF subject SUBJECT_CODE.

    For example: passport orgs map-competence --org dengie-crouch
    "904|LOCAL|Safeguarding Adults Level 2/3 - 3 Years|" SA3
    """
    with platform_session() as (_, session):
        organisation = get_organisation(session, org_slug)
        try:
            row = map_local_competence(
                session,
                organisation,
                competence_name,
                subject_code,
                actor=command_line_actor(),
            )
        except KeyError as error:
            raise click.BadParameter(
                str(error.args[0]), param_hint="SUBJECT_CODE"
            ) from error
        except ValueError as error:
            raise click.BadParameter(
                str(error), param_hint="COMPETENCE_NAME"
            ) from error
        click.echo(f"{row.competence_name} now counts as {row.subject_code}.")


@orgs.command("competences")
@org_option
def orgs_competences_command(org_slug: str) -> None:
    """List the organisation's local competences and their CSTF subjects."""
    with platform_session() as (_, session):
        rows = local_competences(session, get_organisation(session, org_slug))
        for row in rows:
            click.echo(f"{row.competence_name} -> {row.subject_code}")
    if not rows:
        click.echo("No local competences are mapped; all are rejected on import.")


@click.group()
def claims() -> None:
    """Give staff one-time codes to claim their credentials into a wallet."""


@claims.command("create")
@org_option
@click.option(
    "--employee",
    "employee_number",
    required=True,
    help="The staff member's employee number, as in the training export.",
)
@click.option(
    "--days",
    default=CLAIM_CODE_LIFETIME.days,
    show_default=True,
    type=click.IntRange(1, 90),
    help="Days the code stays valid.",
)
@click.option(
    "--qr",
    "qr_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the link as a QR code PNG to this file.",
)
def claims_create_command(
    org_slug: str, employee_number: str, days: int, qr_path: Path | None
) -> None:
    """Create a one-time claim code for a staff member and print it once."""
    with platform_session() as (services, session):
        organisation = get_organisation(session, org_slug)
        secret = reference_secret(services.settings.key_passphrase)
        record = find_staff_record(session, organisation, secret, employee_number)
        new = create_claim_code(
            session,
            organisation,
            record,
            base_url=services.settings.public_url,
            actor=command_line_actor(),
            lifetime=timedelta(days=days),
        )
    click.echo(f"Claim code for {new.staff_display_name}: {new.code}")
    click.echo(f"Link: {new.link}")
    click.echo(f"Valid until {new.expires_at.isoformat()}; it works once.")
    if qr_path is not None:
        write_claim_qr(new.link, qr_path)
        click.echo(f"QR code written to {qr_path}")


@click.group()
def tokens() -> None:
    """Manage the bearer tokens other systems use for the VC-API."""


@tokens.command("create")
@org_option
@click.option("--name", required=True, help="Which system uses the token, e.g. LMS.")
def tokens_create_command(org_slug: str, name: str) -> None:
    """Create a token and print it once; only its hash is kept."""
    with platform_session() as (_, session):
        new = create_api_token(
            session,
            get_organisation(session, org_slug),
            name,
            actor=command_line_actor(),
        )
    click.echo(f"Token {new.id} ({new.name}) for {org_slug}: {new.token}")
    click.echo("Store it now; it cannot be shown again.")


@tokens.command("list")
@org_option
def tokens_list_command(org_slug: str) -> None:
    """List the organisation's tokens (never their values)."""
    with platform_session() as (_, session):
        for row in list_api_tokens(session, get_organisation(session, org_slug)):
            state = (
                f"revoked {row.revoked_at.isoformat()}" if row.revoked_at else "active"
            )
            used = row.last_used_at.isoformat() if row.last_used_at else "never"
            click.echo(f"{row.id}: {row.name}, {state}, last used {used}")


@tokens.command("revoke")
@org_option
@click.argument("token_id", type=int)
def tokens_revoke_command(org_slug: str, token_id: int) -> None:
    """Stop the token TOKEN_ID from working."""
    with platform_session() as (_, session):
        revoke_api_token(
            session,
            get_organisation(session, org_slug),
            token_id,
            actor=command_line_actor(),
        )
    click.echo(f"Token {token_id} revoked.")
