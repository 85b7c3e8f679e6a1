"""``passport registry`` and ``passport profiles``: the trust registry and
role requirement profiles from the command line."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlmodel import Session

from audit.log import command_line_actor
from keys.store import KeyStore
from verifier.errors import RegistryMemberInvalid
from verifier.registry import CSTF_KIND
from verifier.registry_service import (
    DEFAULT_KINDS,
    MemberInput,
    as_trusted_issuer,
    end_membership,
    latest_published_registry,
    list_members,
    publish_registry,
    save_member,
)
from verifier.requirements import list_profiles, seed_profiles

CLI_EDITOR = command_line_actor()


@contextmanager
def _session() -> Iterator[tuple[Session, KeyStore]]:
    from passport.db import make_engine, session_scope
    from passport.settings import Settings

    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            yield session, KeyStore(settings.key_passphrase)
    finally:
        engine.dispose()


def _instant(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None else None


@click.group("registry")
def registry_group() -> None:
    """Manage the partnership's trust registry."""


@registry_group.command("list")
def list_command() -> None:
    """List the members, their kinds, periods and fetch origins."""
    with _session() as (session, _):
        for row in list_members(session):
            member = as_trusted_issuer(row)
            period = (
                f"{member.member_from.date() if member.member_from else '-'} to "
                f"{member.member_until.date() if member.member_until else 'now'}"
            )
            click.echo(
                f"{member.name} ({member.did})\n  kinds: "
                f"{', '.join(sorted(member.may_issue)) or 'any'}; CSTF aligned: "
                f"{'yes' if member.cstf_aligned else 'no'}; member {period}; "
                f"origins: {', '.join(member.origins) or 'none'}"
            )


@registry_group.command("add")
@click.option("--did", required=True, help="The organisation's did:key or did:web.")
@click.option("--name", required=True, help="The organisation's name.")
@click.option("--slug", default="", help="The organisation's short name.")
@click.option("--cstf-aligned", is_flag=True, help="It declared CSTF alignment.")
@click.option(
    "--may-issue",
    "kinds",
    multiple=True,
    help=f"A credential kind it may issue (repeat; default {DEFAULT_KINDS[0]}, plus "
    f"{CSTF_KIND!r} when CSTF aligned).",
)
@click.option(
    "--from",
    "member_from",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Date membership began (UTC midnight).",
)
@click.option(
    "--until",
    "member_until",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Date membership ended (UTC midnight).",
)
@click.option(
    "--origin",
    "origins",
    multiple=True,
    help="Origin its status lists and did:web document are served from (repeat).",
)
def add_command(
    did: str,
    name: str,
    slug: str,
    cstf_aligned: bool,
    kinds: tuple[str, ...],
    member_from: datetime | None,
    member_until: datetime | None,
    origins: tuple[str, ...],
) -> None:
    """Add a member, or replace the member with the same DID."""
    if not kinds:
        kinds = DEFAULT_KINDS + ((CSTF_KIND,) if cstf_aligned else ())
    member = MemberInput(
        did=did,
        name=name,
        slug=slug,
        cstf_aligned=cstf_aligned,
        may_issue=kinds,
        member_from=_instant(member_from),
        member_until=_instant(member_until),
        origins=origins,
    )
    try:
        with _session() as (session, _):
            save_member(session, member, editor=CLI_EDITOR)
    except RegistryMemberInvalid as error:
        raise click.BadParameter(str(error)) from error
    click.echo(f"Saved {name} ({did}).")


@registry_group.command("leave")
@click.option("--did", required=True, help="The member's DID.")
@click.option(
    "--at",
    "at",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="Date it left (UTC midnight); what it issued before stays trusted.",
)
def leave_command(did: str, at: datetime) -> None:
    """Record that a member left the partnership."""
    try:
        with _session() as (session, _):
            row = end_membership(
                session, did, at=at.replace(tzinfo=UTC), editor=CLI_EDITOR
            )
            name = row.name
    except RegistryMemberInvalid as error:
        raise click.BadParameter(str(error), param_hint="--did") from error
    click.echo(f"{name} left on {at.date().isoformat()}.")


@registry_group.command("publish")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: standard output).",
)
def publish_command(out: Path | None) -> None:
    """Write the registry as a document signed by the partnership's key."""
    with _session() as (session, key_store):
        document = publish_registry(
            session, key_store, now=datetime.now(UTC), editor=CLI_EDITOR
        )
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {out}, signed by {document['issuer']}.", err=True)


@registry_group.command("export")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write the latest published registry document to.",
)
def export_command(out: Path) -> None:
    """Write the latest published registry, for verifiers that work offline.

    If the registry was never published, it is published first. Load the
    file with 'passport verify --registry FILE --registry-publisher DID'.
    """
    with _session() as (session, key_store):
        text = latest_published_registry(session)
        if text is None:
            document = publish_registry(
                session, key_store, now=datetime.now(UTC), editor=CLI_EDITOR
            )
            text = json.dumps(document, indent=2, ensure_ascii=False)
    document = json.loads(text)
    try:
        out.write_text(text + "\n", encoding="utf-8")
    except OSError as error:
        raise click.BadParameter(
            f"cannot write {str(out)!r}: {error}", param_hint="--out"
        ) from error
    click.echo(
        f"Wrote {out}: {len(document['credentialSubject']['member'])} members, "
        f"valid until {document['validUntil']}, signed by {document['issuer']} "
        "(pass that DID as --registry-publisher).",
        err=True,
    )


@click.group("profiles")
def profiles_group() -> None:
    """Role requirement profiles for the passport report."""


@profiles_group.command("list")
def profiles_list_command() -> None:
    """List the profiles and their required subject codes."""
    with _session() as (session, _):
        seed_profiles(session)
        for profile in list_profiles(session):
            click.echo(
                f"{profile.slug}: {profile.name}\n  {' '.join(profile.requirements)}"
            )
