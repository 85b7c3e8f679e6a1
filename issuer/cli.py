"""``passport orgs`` and ``passport keys``: issuers and their keys.

The commands read ``DATABASE_URL``, ``PASSPORT_DATA_DIR`` and
``PASSPORT_KEY_PASSPHRASE`` like the rest of the ``passport`` command, and
record what they change in the audit log under the operating-system user.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click
from sqlmodel import Session

from audit.log import command_line_actor
from issuer.errors import IssuerError, OrganisationNotFound
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
