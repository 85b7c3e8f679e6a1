"""The ``passport programmes`` commands: progress figures and validation."""

from pathlib import Path
from typing import TYPE_CHECKING

import click

from programmes.errors import FrameworkInvalid, NotFound
from workflows.errors import count_errors

if TYPE_CHECKING:
    from passport.app import Platform
    from programmes.service import Programmes


def _programmes() -> tuple["Platform", "Programmes"]:
    from passport.app import Platform
    from passport.settings import Settings
    from programmes.service import Programmes

    platform = Platform(Settings.from_env())
    return platform, Programmes(
        platform.engine, platform.key_store, data_dir=platform.settings.data_dir
    )


@click.group("programmes")
def programmes_group() -> None:
    """Leadership programmes: cohort progress and competency frameworks."""


@programmes_group.command("progress")
@click.option("--cohort", "cohort", required=True, help="The cohort's code.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the figures as one JSON object."
)
def progress_command(cohort: str, as_json: bool) -> None:
    """Print per-learner and cohort progress: competencies signed off or
    counted, awaiting sign-off, overdue sign-offs and overdue reviews."""
    import json

    platform, programmes = _programmes()
    try:
        progress = programmes.progress(cohort)
    except NotFound as error:
        raise click.BadParameter(str(error), param_hint="--cohort") from None
    finally:
        platform.dispose()
    if as_json:
        click.echo(json.dumps(progress.to_json(), indent=2, sort_keys=True))
        return
    totals = progress.totals()
    click.echo(
        f"{progress.title} ({progress.cohort}): {totals['learners']} learners, "
        f"{totals['percent_complete']}% of competencies done, "
        f"{totals['overdue_sign_offs']} sign-offs and "
        f"{totals['overdue_reviews']} reviews overdue"
    )
    for learner in progress.learners:
        click.echo(
            f"  {learner.reference} {learner.organisation} {learner.variant}: "
            f"{learner.signed_off + learner.counted}/{learner.competencies} done, "
            f"{learner.awaiting_sign_off} awaiting sign-off"
        )


@programmes_group.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate_command(files: tuple[Path, ...]) -> None:
    """Check framework FILES: the workflow schema and the programme section.
    Exit status 1 when any file is invalid."""
    from programmes.framework import load_framework

    invalid = 0
    for path in files:
        try:
            framework = load_framework(path)
        except FrameworkInvalid as error:
            invalid += 1
            click.echo(f"{path}: invalid, {count_errors(error.errors)}")
            for message in error.errors:
                click.echo(f"  {message}")
            continue
        click.echo(
            f"{path}: valid, {framework.id} version {framework.version}, "
            f"{len(framework.competencies)} competencies"
        )
    raise SystemExit(1 if invalid else 0)
