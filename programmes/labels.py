"""Plain-word labels for the programme's internal names.

Records and frameworks store slugs (``signed-off``, ``line-manager``,
``observation-record``) because code and routing compare them. People read
the labels instead: every programme template shows a slug through the
``programme_label`` filter, and sentences that put an article before a role
use ``with_article``, so each name reads the same on every page.
"""

from collections.abc import Mapping

from programmes.roles import ROLE_LABELS

STATUS_LABELS = {
    "open": "Open",
    "returned": "Returned",
    "signed-off": "Signed off",
    "counted": "Counted as prior learning",
    "active": "Active",
    "completed": "Completed",
}
"""Statuses of competencies and enrolments."""

DECISION_LABELS = {"signed": "Signed", "returned": "Returned"}
"""Sign-off decisions, as the first word of "Signed by an assessor"."""

LABELS = {**STATUS_LABELS, **ROLE_LABELS, **DECISION_LABELS}


def label(name: str | None, titles: Mapping[str, str] | None = None) -> str:
    """Return the plain-word label of a slug.

    ``titles`` are labels that a framework defines (its evidence type titles)
    and come first. An unknown slug is shown with spaces for hyphens and
    underscores and a capital first letter, so a new value never shows as code.
    """
    if not name:
        return ""
    known = (titles or {}).get(name) or LABELS.get(name)
    if known is not None:
        return known
    words = name.replace("-", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def with_article(noun: str) -> str:
    """Return ``noun`` in lower case after "a" or "an" ("an assessor")."""
    text = noun.lower()
    article = "an" if text[:1] in {"a", "e", "i", "o", "u"} else "a"
    return f"{article} {text}"
