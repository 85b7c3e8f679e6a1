"""The ``passport`` command line.

Commands that need no database (:data:`COMMANDS_WITHOUT_DATABASE`) run
without one; the others use ``DATABASE_URL`` and ``PASSPORT_DATA_DIR`` and
stop with an error when ``passport init`` has not created that database.
"""

import functools
import json
import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from credentials.datetimes import parse_date_time_stamp
from credentials.errors import CredentialError, InvalidDateTime
from credentials.proofs import add_proof
from credentials.suites import SUITES
from keys.errors import KeyPackageError
from keys.multikey import Ed25519KeyPair

EXIT_VERIFIED = 0
EXIT_NOT_VERIFIED = 1
EXIT_USAGE = 2


def _read_input(path: str) -> str:
    try:
        if path == "-":
            return sys.stdin.read()
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise click.BadParameter(
            f"cannot read {path!r}: {error}", param_hint="FILE"
        ) from error


def _parse_json(text: str, path: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise click.BadParameter(
            f"{path!r} is not valid JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}.",
            param_hint="FILE",
        ) from error


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO level to stderr.")
def main(verbose: bool) -> None:
    """Staff Passport: portable NHS training credentials."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@main.group()
def keys() -> None:
    """Create Ed25519 key files."""


@keys.command("generate")
@click.option("--seed", help="32-byte seed as 64 hex digits (default: random).")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Key file to write (Multikey JSON with the secret key, mode 0600).",
)
def keys_generate_command(seed: str | None, out: Path) -> None:
    """Write a new Ed25519 key pair as a Multikey JSON file.

    The file holds the secret key: keep it private. An existing file is
    never overwritten.
    """
    if seed is None:
        pair = Ed25519KeyPair.generate()
    else:
        try:
            seed_bytes = bytes.fromhex(seed)
            pair = Ed25519KeyPair.from_seed(seed_bytes)
        except (ValueError, KeyPackageError):
            raise click.BadParameter(
                f"{seed!r} is not 64 hexadecimal digits (32 bytes).",
                param_hint="--seed",
            ) from None
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise click.BadParameter(
            f"{str(out)!r} already exists; choose another path or remove it first.",
            param_hint="--out",
        ) from None
    except OSError as error:
        raise click.BadParameter(
            f"cannot create {str(out)!r}: {error}", param_hint="--out"
        ) from error
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(pair.to_multikey(include_secret=True), handle, indent=2)
        handle.write("\n")
    click.echo(f"Wrote {out} for {pair.did}")


def _load_key_file(path: Path) -> Ed25519KeyPair:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return Ed25519KeyPair.from_multikey(document)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise click.BadParameter(
            f"cannot read key file {str(path)!r}: {error}", param_hint="--key"
        ) from error
    except KeyPackageError as error:
        raise click.BadParameter(str(error), param_hint="--key") from error


@main.command("sign")
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Multikey JSON key file with secretKeyMultibase.",
)
@click.option(
    "--suite",
    type=click.Choice(sorted(SUITES)),
    default="eddsa-rdfc-2022",
    show_default=True,
    help="Data Integrity cryptosuite.",
)
@click.option(
    "--created",
    help="Proof creation time as an XSD dateTimeStamp (default: now, UTC).",
)
@click.argument("file")
def sign_command(key_path: Path, suite: str, created: str | None, file: str) -> None:
    """Sign the credential in FILE ('-' for stdin) and print it.

    When the credential has no issuer, the key's DID becomes the issuer.
    """
    pair = _load_key_file(key_path)
    document = _parse_json(_read_input(file), file)
    if not isinstance(document, dict):
        raise click.BadParameter(
            "the credential must be a JSON object.", param_hint="FILE"
        )
    if created is not None:
        try:
            parse_date_time_stamp(created, field="--created")
        except InvalidDateTime as error:
            raise click.BadParameter(str(error), param_hint="--created") from error
    document.setdefault("issuer", pair.controller)
    issuer = document["issuer"]
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if issuer_id != pair.controller:
        click.echo(
            f"Warning: issuer {issuer_id!r} is not the key's controller "
            f"{pair.controller!r}; verifiers will reject the binding.",
            err=True,
        )
    try:
        signed = add_proof(document, signer=pair, cryptosuite=suite, created=created)
    except CredentialError as error:
        raise click.ClickException(str(error)) from error
    click.echo(json.dumps(signed, indent=2, ensure_ascii=False))


@main.command("verify")
@click.option("--challenge", help="Expected presentation challenge.")
@click.option("--domain", help="Expected presentation domain.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--at",
    "at",
    help="Check the validity period at this XSD dateTimeStamp (default: now).",
)
@click.option(
    "--registry",
    "registry_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Signed trust registry file (from 'passport registry export') to use "
    "instead of the database's registry.",
)
@click.option(
    "--registry-publisher",
    help="DID that must have signed the --registry file (the partnership's "
    "registry key, printed by 'passport registry export').",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Fetch nothing: status lists come from earlier fetches, with their age.",
)
@click.argument("file")
def verify_command(
    challenge: str | None,
    domain: str | None,
    as_json: bool,
    at: str | None,
    registry_path: Path | None,
    registry_publisher: str | None,
    offline: bool,
    file: str,
) -> None:
    """Verify the credential or presentation in FILE ('-' for stdin).

    FILE may hold JSON or a wallet QR payload (text starting 'SP1:'). Exit
    status: 0 verified, 1 not verified, 2 unreadable input or bad usage.
    """
    from passport.settings import FetchSettings
    from passport.verification import load_registry_file, verify_text
    from verifier.vc_api import result_body

    try:
        FetchSettings.from_env()
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    now = datetime.now(UTC)
    if at is not None:
        try:
            now = parse_date_time_stamp(at, field="--at")
        except InvalidDateTime as error:
            raise click.BadParameter(str(error), param_hint="--at") from error
    registry = None
    if registry_path is not None:
        if not registry_publisher:
            raise click.BadParameter(
                "--registry needs --registry-publisher DID, the partnership DID "
                "that signs the registry, so that a copy signed by anyone else "
                "is rejected.",
                param_hint="--registry-publisher",
            )
        try:
            # The registry is checked against the real clock, not --at: a
            # copy past its validUntil is stale whatever instant is checked.
            registry = load_registry_file(
                registry_path, publisher_did=registry_publisher, now=datetime.now(UTC)
            )
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--registry") from error
    text = _read_input(file)
    _warn_without_database()
    try:
        result = verify_text(
            text,
            challenge=challenge,
            domain=domain,
            now=now,
            registry=registry,
            offline=offline,
        )
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="FILE") from error
    if as_json:
        # The same body as POST /credentials/verify returns, so scripts can
        # read either.
        click.echo(json.dumps(result_body(result), indent=2, ensure_ascii=False))
    else:
        _print_checks(result)
    sys.exit(EXIT_VERIFIED if result.verified else EXIT_NOT_VERIFIED)


def _warn_without_database() -> None:
    """Print a warning to stderr when verification runs with no database."""
    from passport.db import DatabaseNotInitialised, check_database, describe_database
    from passport.settings import database_url_from_env

    database_url = database_url_from_env(dict(os.environ))
    try:
        check_database(database_url)
    except DatabaseNotInitialised:
        click.echo(
            "Warning: the platform database at "
            f"{describe_database(database_url)} was not found or is not "
            "initialised, so this platform's own issuers, DIDs and status "
            "lists were not consulted.",
            err=True,
        )


def _print_checks(result: Any, indent: str = "") -> None:
    for check in result.checks:
        click.echo(f"{indent}{check.outcome.upper()}  {check.id}: {check.message}")
    for index, inner in enumerate(result.credentials, start=1):
        click.echo(f"{indent}Credential {index}:")
        _print_checks(inner, indent + "  ")
    if not indent:
        click.echo("Verified." if result.verified else "Not verified.")


@main.command("init")
@click.option(
    "--demo", is_flag=True, help="Seed the demo partnership, accounts and import."
)
def init_command(demo: bool) -> None:
    """Create or upgrade the database; with --demo, seed the demo partnership.

    Safe to run again: existing data is kept and nothing is issued twice.
    """
    from passport.db import upgrade_database
    from passport.settings import Settings

    settings = Settings.from_env()
    upgrade_database(settings.database_url)
    click.echo(f"Database ready: {_safe_url(settings.database_url)}")
    _adopt_did_web(settings)
    if demo:
        from passport.demo import seed_demo

        seed_demo(settings, echo=click.echo)


def _adopt_did_web(settings: Any) -> None:
    """Move organisations created before did:web identities onto one."""
    from audit.log import command_line_actor
    from issuer.service import adopt_did_web
    from passport.app import command_platform
    from passport.db import session_scope

    with command_platform(settings) as services:
        with session_scope(services.engine) as session:
            adopted = adopt_did_web(
                session,
                services.key_store,
                settings.public_url,
                actor=command_line_actor(),
            )
    for slug in adopted:
        click.echo(f"Organisation {slug} now issues under its did:web.")


def _safe_url(url: str) -> str:
    from passport.db import safe_url

    return safe_url(url)


@main.command("issue")
@click.option(
    "--org", "org_slug", required=True, help="Slug of the issuing organisation."
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Reference date; later achievement dates are rejected (default: today).",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV file listing each rejected row with its line, column and reason "
    "(default: a new file under $PASSPORT_DATA_DIR/reports).",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes that sign in parallel. Signing costs less than the "
    "database work of a row, so more than one rarely helps.",
)
@click.option(
    "--batch-size",
    default=200,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Rows per database transaction; a crash loses at most one batch.",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def issue_command(
    org_slug: str,
    as_of: datetime | None,
    report_path: Path | None,
    workers: int,
    batch_size: int,
    file: Path,
) -> None:
    """Issue training credentials from an ESR-style team export (CSV).

    Bad rows go to the report file with their line, column and reason and
    never stop the good ones. Importing the same file again issues nothing
    new, and an import that was stopped part way finishes when run again.
    """
    from issuer.cli import run_import

    run_import(
        org_slug,
        file,
        as_of=as_of.date() if as_of else None,
        report_path=report_path,
        workers=workers,
        batch_size=batch_size,
    )


@main.command("serve")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on."
)
@click.option("--port", default=5000, show_default=True, type=int, help="TCP port.")
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="gunicorn worker processes.",
)
@click.option(
    "--certfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM certificate (chain) to serve HTTPS with; needs --keyfile.",
)
@click.option(
    "--keyfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM private key of --certfile.",
)
def serve_command(
    host: str,
    port: int,
    workers: int,
    certfile: Path | None,
    keyfile: Path | None,
) -> None:
    """Serve the web platform with gunicorn until interrupted.

    With --certfile and --keyfile it serves HTTPS only.
    """
    from passport.server import (
        check_tls_files,
        platform_urls,
        public_url_port_warning,
        run_server,
    )
    from passport.settings import public_url_from_env

    if (certfile is None) != (keyfile is None):
        raise click.BadParameter(
            "give both --certfile and --keyfile to serve HTTPS, or neither for HTTP.",
            param_hint="--certfile/--keyfile",
        )
    if certfile is not None and keyfile is not None:
        try:
            check_tls_files(certfile, keyfile)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--certfile") from error
    tls = certfile is not None
    warning = public_url_port_warning(
        public_url_from_env(dict(os.environ)), port, https=tls
    )
    if warning is not None:
        click.echo(warning, err=True)
    for label, url in platform_urls(host, port, https=tls):
        click.echo(f"{label}: {url}")
    run_server(
        host=host, port=port, workers=workers, certfile=certfile, keyfile=keyfile
    )


# Command groups that feature packages define, as "module:attribute". Each
# package adds its own line. A group named like an existing one (such as
# "keys") adds its commands to that group.
COMMAND_GROUPS: tuple[str, ...] = (
    "verifier.cli:registry_group",
    "verifier.cli:profiles_group",
    "audit.cli:audit",
    "issuer.cli:orgs",
    "issuer.cli:keys",
    "issuer.cli:credentials_group",
    "issuer.cli:claims",
    "issuer.cli:tokens",
    "workflows.cli:workflows_group",
    "workflows.cli:scheduler_command",
    "programmes.cli:programmes_group",
)


def _add_command_groups() -> None:
    import importlib

    for path in COMMAND_GROUPS:
        module_name, _, attribute = path.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        existing = main.commands.get(command.name)
        if isinstance(existing, click.Group) and isinstance(command, click.Group):
            for name, subcommand in command.commands.items():
                existing.add_command(subcommand, name)
        else:
            main.add_command(command)


# Commands, as "group subcommand", that work without the platform database.
# Every other command first checks that 'passport init' created it, so that
# a command run from the wrong folder reports the missing database instead
# of creating an empty SQLite file and failing on a missing table.
COMMANDS_WITHOUT_DATABASE = frozenset(
    {
        "keys generate",
        "sign",
        "verify",
        "init",
        "workflows validate",
        "programmes validate",
    }
)


def _require_database() -> None:
    """Stop the command unless the configured database has been initialised."""
    from passport.db import DatabaseNotInitialised, check_database
    from passport.settings import database_url_from_env

    try:
        check_database(database_url_from_env(dict(os.environ)))
    except DatabaseNotInitialised as error:
        raise click.ClickException(str(error)) from error


def _checking_database(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def checked(*args: Any, **kwargs: Any) -> Any:
        _require_database()
        return callback(*args, **kwargs)

    return checked


def _add_database_checks(group: click.Group, prefix: str = "") -> None:
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            _add_database_checks(command, f"{path} ")
        elif path not in COMMANDS_WITHOUT_DATABASE and command.callback is not None:
            command.callback = _checking_database(command.callback)


_add_command_groups()
_add_database_checks(main)
