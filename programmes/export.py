"""The cohort progress CSV that a programme lead downloads.

One row per learner with the figures of
:class:`programmes.progress.LearnerProgress`, the same numbers that
``passport programmes progress --cohort COHORT --json`` prints, then the
done and total count of each competency domain. Text cells go through
:func:`passport.spreadsheets.spreadsheet_safe`, because learner names and
organisation slugs come from user input and the file is opened in
spreadsheet programs.
"""

import csv
import io

from passport.spreadsheets import spreadsheet_safe
from programmes.charts import domain_totals
from programmes.progress import CohortProgress

FIGURE_COLUMNS = (
    "competencies",
    "signed_off",
    "counted",
    "returned",
    "awaiting_sign_off",
    "overdue_sign_offs",
    "overdue_reviews",
    "percent_complete",
)
TEXT_COLUMNS = ("reference", "learner", "organisation", "variant", "status")


def progress_csv(progress: CohortProgress) -> str:
    """Return the cohort's progress as CSV text with a header row."""
    domains = list(domain_totals(progress))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    header = ["cohort", *TEXT_COLUMNS, *FIGURE_COLUMNS]
    for domain in domains:
        header += [f"{domain}_done", f"{domain}_competencies"]
    writer.writerow(header)
    for learner in progress.learners:
        figures = learner.to_json()
        row: list[str | int | float] = [spreadsheet_safe(progress.cohort)]
        row += [spreadsheet_safe(str(figures[column])) for column in TEXT_COLUMNS]
        row += [figures[column] for column in FIGURE_COLUMNS]
        for domain in domains:
            counts = learner.by_domain.get(domain, {})
            row += [counts.get("done", 0), counts.get("competencies", 0)]
        writer.writerow(row)
    return buffer.getvalue()
