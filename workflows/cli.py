"""The ``passport workflows`` commands and ``passport scheduler``."""

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import click
from sqlmodel import Session

from workflows.definitions import (
    Definition,
    bundled_definitions,
    load_definition,
    participant_roles,
)
from workflows.engine import check_subject_ref
from workflows.errors import DefinitionInvalid, WorkflowError, count_errors

EXIT_VALID = 0
EXIT_INVALID = 1


def _workflow_engine() -> Any:
    from passport.db import make_engine
    from passport.models import import_all_models
    from passport.settings import database_url_from_env
    from workflows.engine import WorkflowEngine

    # The workflow tables refer to accounts, so every table must be known.
    import_all_models()
    return WorkflowEngine(make_engine(database_url_from_env(dict(os.environ))))


def _check_organisations(session: Any, slugs: list[str]) -> None:
    """Raise BadParameter naming the first slug no organisation has."""
    from sqlmodel import select

    from issuer.models import Organisation

    known = set(session.exec(select(Organisation.slug)).all())
    for slug in slugs:
        if slug not in known:
            raise click.BadParameter(
                f"no organisation has the slug {slug!r}; 'passport orgs list' "
                "shows them",
                param_hint="--org",
            )


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key or not item:
            raise click.BadParameter(
                f"{value!r} is not of the form NAME=VALUE", param_hint=option
            )
        pairs[key] = item
    return pairs


@click.group("workflows")
def workflows_group() -> None:
    """Care protocols: validate, import, export and run workflow definitions."""


@workflows_group.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate_command(files: tuple[Path, ...]) -> None:
    """Check definition FILES against the schema and the engine's rules.

    Prints every error with the path that holds it. Exit status: 0 when
    every file is valid, 1 when any is not.
    """
    invalid = 0
    for path in files:
        try:
            definition = load_definition(path)
        except DefinitionInvalid as error:
            invalid += 1
            click.echo(f"{path}: invalid, {count_errors(error.errors)}")
            for message in error.errors:
                click.echo(f"  {message}")
            continue
        click.echo(
            f"{path}: valid ({definition.id} version {definition.version}, "
            f"sha256 {definition.content_hash[:16]})"
        )
    sys.exit(EXIT_INVALID if invalid else EXIT_VALID)


@workflows_group.command("import")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
def import_command(files: tuple[Path, ...]) -> None:
    """Publish definition FILES (default: the bundled protocol library).

    A file whose id and version are already published with the same content
    creates nothing; with other content it is rejected, because published
    versions are immutable. An invalid file is rejected whole.
    """
    from workflows.errors import DefinitionConflict

    failed = 0
    definitions: list[tuple[str, Definition]] = []
    if files:
        for path in files:
            try:
                definitions.append((str(path), load_definition(path)))
            except DefinitionInvalid as error:
                failed += 1
                click.echo(f"{path}: rejected, {count_errors(error.errors)}", err=True)
                for message in error.errors:
                    click.echo(f"  {message}", err=True)
    else:
        definitions = [(f"bundled {d.id}", d) for d in bundled_definitions()]
    engine = _workflow_engine()
    for label, definition in definitions:
        try:
            result = engine.publish(definition)
        except DefinitionConflict as error:
            failed += 1
            click.echo(f"{label}: rejected: {error}", err=True)
            continue
        state = "published" if result.created else "unchanged"
        click.echo(f"{label}: {state} {definition.id} version {definition.version}")
    sys.exit(EXIT_INVALID if failed else EXIT_VALID)


@workflows_group.command("export")
@click.option("--fhir", "fhir", is_flag=True, required=True, help="Write FHIR R4 JSON.")
@click.option("--definition", "definition_id", help="Published definition id.")
@click.option("--version", type=int, help="Definition version (default: newest).")
@click.option(
    "--file",
    "file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Export this definition file instead of a published definition.",
)
@click.option(
    "--handoffs",
    is_flag=True,
    help="Export the handoff messages (ServiceRequest and Task) instead.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: standard output).",
)
def export_command(
    fhir: bool,
    definition_id: str | None,
    version: int | None,
    file: Path | None,
    handoffs: bool,
    out: Path | None,
) -> None:
    """Export definitions as FHIR R4 PlanDefinitions, or handoffs as Tasks.

    With --definition or --file, writes one PlanDefinition; otherwise a
    Bundle holding the newest version of every published definition.
    """
    from workflows.fhir import plan_definition

    if file is not None:
        try:
            document: dict[str, Any] = plan_definition(load_definition(file))
        except DefinitionInvalid as error:
            raise click.BadParameter(str(error), param_hint="--file") from None
    elif handoffs:
        document = _handoff_bundle()
    else:
        engine = _workflow_engine()
        try:
            if definition_id is not None:
                document = plan_definition(engine.definition(definition_id, version))
            else:
                newest = {row.definition_id: row for row in engine.definitions()}
                document = {
                    "resourceType": "Bundle",
                    "type": "collection",
                    "entry": [
                        {
                            "resource": plan_definition(
                                engine.definition(key, row.version)
                            )
                        }
                        for key, row in sorted(newest.items())
                    ],
                }
        except WorkflowError as error:
            raise click.ClickException(str(error)) from None
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {out}", err=True)


def _handoff_bundle() -> dict[str, Any]:
    from sqlmodel import Session, col, select

    from workflows.models import WorkflowOutbox

    engine = _workflow_engine()
    with Session(engine.engine) as session:
        messages = session.exec(select(WorkflowOutbox).order_by(col(WorkflowOutbox.id)))
        entries = [entry for message in messages for entry in message.payload["entry"]]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


@workflows_group.command("start")
@click.argument("definition_id")
@click.option(
    "--key", "business_key", required=True, help="Business key, e.g. an episode id."
)
@click.option(
    "--subject", "subject_ref", required=True, help="Pseudonymous patient reference."
)
@click.option(
    "--org", "orgs", multiple=True, help="SLOT=organisation-slug, once per slot."
)
@click.option("--team", "teams", multiple=True, help="SLOT=team or ward.")
@click.option("--data", "data", help="Starting values as a JSON object.")
def start_command(
    definition_id: str,
    business_key: str,
    subject_ref: str,
    orgs: tuple[str, ...],
    teams: tuple[str, ...],
    data: str | None,
) -> None:
    """Start an instance of DEFINITION_ID (or show the one with the same key)."""
    values: dict[str, Any] = {}
    if data:
        try:
            values = json.loads(data)
        except json.JSONDecodeError as error:
            raise click.BadParameter(
                f"not JSON: {error.msg}", param_hint="--data"
            ) from None
        if not isinstance(values, dict):
            raise click.BadParameter("must be a JSON object", param_hint="--data")
    organisations = _pairs(orgs, "--org")
    workflows = _workflow_engine()
    try:
        check_subject_ref(subject_ref)
        _check_slots(workflows.definition(definition_id), organisations)
        with Session(workflows.engine) as session:
            _check_organisations(session, list(organisations.values()))
        result = workflows.start(
            definition_id,
            business_key=business_key,
            subject_ref=subject_ref,
            organisations=organisations,
            teams=_pairs(teams, "--team"),
            data=values,
        )
    except WorkflowError as error:
        raise click.ClickException(str(error)) from None
    state = "started" if result.created else "already running"
    click.echo(f"{result.instance_id} {state}")


def _check_slots(definition: Definition, organisations: dict[str, str]) -> None:
    """Raise BadParameter naming the slots that --org misses or misnames."""
    slots = list(definition.document["organisations"])
    unknown = sorted(set(organisations) - set(slots))
    if unknown:
        raise click.BadParameter(
            f"{', '.join(unknown)} is not an organisation slot of "
            f"{definition.id!r}; its slots are {', '.join(slots)}",
            param_hint="--org",
        )
    missing = [slot for slot in slots if slot not in organisations]
    if missing:
        example = " ".join(f"--org {slot}=SLUG" for slot in missing)
        raise click.BadParameter(
            f"no organisation given for the slot(s) {', '.join(missing)} of "
            f"{definition.id!r}; pass one per slot, e.g. {example}",
            param_hint="--org",
        )


@workflows_group.command("history")
@click.argument("instance_id")
def history_command(instance_id: str) -> None:
    """Print the audit events of an instance, oldest first."""
    for event in _workflow_engine().history(instance_id):
        details = json.dumps(event.data, sort_keys=True) if event.data else ""
        click.echo(
            f"{event.at.isoformat()} {event.actor} {event.kind} {details}".rstrip()
        )


@workflows_group.command("migrate")
@click.argument("instance_id")
@click.option("--to-version", required=True, type=int, help="Target version.")
@click.option("--map", "step_map", multiple=True, help="OLD_STEP=NEW_STEP, repeatable.")
def migrate_command(
    instance_id: str, to_version: int, step_map: tuple[str, ...]
) -> None:
    """Move a running instance to another version of its definition."""
    from workflows.versions import migrate_instance

    try:
        migrate_instance(
            _workflow_engine(),
            instance_id,
            to_version=to_version,
            step_map=_pairs(step_map, "--map"),
        )
    except WorkflowError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{instance_id} moved to version {to_version}")


@workflows_group.command("resume")
@click.argument("instance_id")
def resume_command(instance_id: str) -> None:
    """Retry the steps of an instance that is on hold."""
    try:
        _workflow_engine().resume(instance_id)
    except WorkflowError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{instance_id} resumed")


@workflows_group.group("member")
def member_group() -> None:
    """Give staff accounts roles in teams and wards."""


@member_group.command("add")
@click.option("--account", "account_id", required=True, type=int, help="Account id.")
@click.option("--org", "organisation", required=True, help="Organisation slug.")
@click.option(
    "--role",
    required=True,
    help="Task role, as the definitions name it, e.g. registered-nurse, "
    "healthcare-assistant, nurse-in-charge.",
)
@click.option("--team", help="Team or ward (default: every team).")
@click.option(
    "--allow-new-role",
    is_flag=True,
    help="Accept a role that no published definition or programme uses yet.",
)
def member_add_command(
    account_id: int,
    organisation: str,
    role: str,
    team: str | None,
    allow_new_role: bool,
) -> None:
    """Give an account a role at an organisation.

    The role must be one that a published definition's tasks or a programme
    uses, because a misspelt role routes no task to the account; pass
    --allow-new-role for a definition not yet published.
    """
    from accounts.models import UserAccount
    from workflows.routing import add_membership

    workflows = _workflow_engine()
    if not allow_new_role:
        known = _known_roles(workflows)
        if role not in known:
            raise click.ClickException(
                f"no published definition or programme uses the role {role!r}; "
                f"the roles in use are {', '.join(sorted(known)) or 'none'}. "
                "Pass --allow-new-role to add it anyway."
            )
    with Session(workflows.engine) as session:
        if session.get(UserAccount, account_id) is None:
            raise click.BadParameter(
                f"no account has the id {account_id}; the demo prints its "
                "sign-ins, and each account's id is in the user_account table",
                param_hint="--account",
            )
        _check_organisations(session, [organisation])
        add_membership(
            session,
            account_id=account_id,
            organisation=organisation,
            role=role,
            team=team,
        )
        session.commit()
    click.echo(
        f"account {account_id} is {role} at {organisation} ({team or 'all teams'})"
    )


def _known_roles(workflows: Any) -> set[str]:
    """Return the task roles of every published definition version and the
    roles of the training programmes."""
    # Imported here because the programmes package builds on this one.
    from programmes.roles import ROLE_LABELS

    roles = set(ROLE_LABELS)
    for row in workflows.definitions():
        roles |= participant_roles(row.document)
    return roles


@member_group.command("move")
@click.option("--account", "account_id", required=True, type=int, help="Account id.")
@click.option("--org", "organisation", required=True, help="Organisation slug.")
@click.option("--team", required=True, help="The new team or ward.")
def member_move_command(account_id: int, organisation: str, team: str) -> None:
    """Move an account to another team; its task list changes at once."""
    from sqlmodel import Session

    from workflows.routing import move_to_team

    with Session(_workflow_engine().engine) as session:
        moved = move_to_team(
            session, account_id=account_id, organisation=organisation, team=team
        )
        session.commit()
    if not moved:
        raise click.ClickException(
            f"account {account_id} has no role at {organisation!r}; add one first"
        )
    click.echo(f"account {account_id} moved to {team} at {organisation}")


@click.command("scheduler")
@click.option(
    "--poll",
    "poll_seconds",
    default=2.0,
    show_default=True,
    type=click.FloatRange(0.1, 3600),
    help="Seconds between looks for due timers.",
)
@click.option("--once", is_flag=True, help="Fire the due timers once and exit.")
def scheduler_command(poll_seconds: float, once: bool) -> None:
    """Run the workflow timer dispatcher as its own process.

    Several may run against PostgreSQL; run one against an SQLite file.
    Prints one line when it starts and one when it stops; Ctrl+C or SIGTERM
    stops it.
    """
    from workflows.dispatcher import Dispatcher
    from workflows.scheduler import WorkflowScheduler

    workflows = _workflow_engine()
    dispatcher = Dispatcher(workflows)
    if once:
        report = dispatcher.run_once()
        click.echo(f"fired {report.fired} timers, {report.failed} failed")
        return
    url = workflows.engine.url
    start_line = (
        f"passport scheduler: firing due workflow timers in "
        f"{_describe_database(url)} every {poll_seconds:g}s; Ctrl+C or SIGTERM "
        "stops it."
    )
    lock = None
    if url.get_backend_name() == "sqlite":
        # Held until the process ends, so that a web process with the same
        # data folder does not start its embedded dispatcher beside this one.
        lock, notice = _take_sqlite_lock()
        start_line += f" Run only one dispatcher per SQLite file: {notice}"
    scheduler = WorkflowScheduler(dispatcher, blocking=True, poll_seconds=poll_seconds)
    # SIGTERM (from a service manager) stops the scheduler as Ctrl+C does,
    # from the moment the start line names both ways to stop it.
    signal.signal(signal.SIGTERM, lambda _number, _frame: sys.exit(0))
    try:
        click.echo(start_line)
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown()
    finally:
        if lock is not None:
            lock.close()
    click.echo(f"passport scheduler: stopped after {scheduler.passes} passes.")


def _describe_database(url: Any) -> str:
    """Name the database kind and place, leaving out user, password and query."""
    if url.get_backend_name() == "sqlite":
        return f"the SQLite database {url.database or '(in memory)'}"
    place = url.host or "localhost"
    if url.port:
        place += f":{url.port}"
    return f"the {url.get_backend_name()} database {url.database} on {place}"


def _take_sqlite_lock() -> tuple[Any, str]:
    """Take the data folder's dispatcher lock and describe the outcome.

    :returns: the open lock file, or None when another process holds it, and
        a sentence for the start line.
    """
    from passport.settings import data_dir_from_env
    from workflows.service import LOCK_FILE, take_scheduler_lock

    path = data_dir_from_env(dict(os.environ)) / LOCK_FILE
    lock = take_scheduler_lock(path.parent)
    if lock is None:
        click.echo(
            f"passport scheduler: warning: another process holds {path}, so a web "
            "process (PASSPORT_SCHEDULER=embedded, the default on SQLite) or "
            "another scheduler already fires these timers. Stop one of them, or "
            "start the web process with PASSPORT_SCHEDULER=external.",
            err=True,
        )
        return None, "another one is running (see the warning)."
    return lock, (
        f"this one holds {path}, so a web process with this data folder will not "
        "start its own. A web process with another PASSPORT_DATA_DIR cannot be "
        "detected, so set PASSPORT_SCHEDULER=external there."
    )
