"""``passport audit``: check and read the audit log from the command line."""

import json
import sys

import click

from audit.log import entry_details, recent_entries, verify_chain


@click.group()
def audit() -> None:
    """Check and read the append-only audit log."""


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify_command(as_json: bool) -> None:
    """Check every audit entry against its hash and its predecessor.

    Exit status 0 when the chain is intact, 1 when an entry was changed,
    deleted or inserted. Keep the printed head hash somewhere outside the
    database: a later run that prints a different hash for the same number
    of entries means the log was rewritten.
    """
    from passport.app import command_platform
    from passport.db import session_scope

    with command_platform() as services, session_scope(services.engine) as session:
        report = verify_chain(session)

    if as_json:
        output = {
            "intact": report.intact,
            "entries_checked": report.entries_checked,
            "head_sequence": report.head_sequence,
            "head_hash": report.head_hash,
            "problems": [
                {"sequence": problem.sequence, "message": problem.message}
                for problem in report.problems
            ],
        }
        click.echo(json.dumps(output, indent=2))
    else:
        for problem in report.problems:
            click.echo(f"FAIL  entry {problem.sequence}: {problem.message}")
        verdict = "intact" if report.intact else "BROKEN"
        click.echo(
            f"Audit log {verdict}: {report.entries_checked} entries checked; "
            f"head {report.head_sequence} {report.head_hash}."
        )
    sys.exit(0 if report.intact else 1)


@audit.command("show")
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Number of entries to print, newest first.",
)
@click.option("--org", "organisation", help="Only entries about this organisation.")
@click.option(
    "--action", help="Only entries whose action starts with this, e.g. 'key.'."
)
def show_command(limit: int, organisation: str | None, action: str | None) -> None:
    """Print the newest audit entries, one JSON object a line."""
    from passport.app import command_platform
    from passport.db import session_scope

    with command_platform() as services, session_scope(services.engine) as session:
        entries = recent_entries(
            session, limit=limit, organisation=organisation, action=action
        )
        for entry in entries:
            line = {
                "sequence": entry.sequence,
                "recorded_at": entry.recorded_at,
                "actor": entry.actor,
                "action": entry.action,
                "organisation": entry.organisation,
                "target": entry.target,
                "details": entry_details(entry),
            }
            click.echo(json.dumps(line, ensure_ascii=False))
