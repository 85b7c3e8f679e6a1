"""Role requirement profiles: which training a post needs, as data.

A profile lists subject codes at their minimum level, such as ``SA2`` for
Safeguarding Adults level 2. A higher level satisfies a lower one where the
framework's levels are cumulative: ``verifier/data/level_equivalence.csv``
lists each code and the codes that satisfy it directly (``SA2`` by ``SA3``;
``RES1`` by any level 2 resuscitation course), and satisfaction is
transitive. Paediatric and newborn life support do not satisfy adult life
support, or the reverse, because they teach different populations.

Profiles are stored in the database, seeded from
``verifier/data/role_profiles.json`` and editable by HR administrators.
"""

import csv
import functools
import io
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from sqlmodel import Session, col, delete, select

from issuer.subjects import Subject, load_subjects
from verifier.errors import ProfileInvalid, ProfileNotFound
from verifier.models import RoleProfile, RoleRequirement

logger = logging.getLogger(__name__)

MAX_REQUIREMENTS = 64


@dataclass(frozen=True)
class Profile:
    """A role and the subject codes it requires, in display order."""

    slug: str
    name: str
    description: str
    requirements: tuple[str, ...]


@functools.cache
def _direct_satisfiers() -> dict[str, frozenset[str]]:
    text = resources.files("verifier").joinpath("data", "level_equivalence.csv")
    reader = csv.DictReader(io.StringIO(text.read_text("utf-8")))
    table: dict[str, set[str]] = {}
    for row in reader:
        table.setdefault(row["subject_code"].strip(), set()).add(
            row["satisfied_by"].strip()
        )
    return {code: frozenset(codes) for code, codes in table.items()}


@functools.cache
def satisfying_codes(code: str) -> frozenset[str]:
    """Return ``code`` and every code that satisfies it, higher levels included."""
    found = {code}
    pending = [code]
    while pending:
        for higher in _direct_satisfiers().get(pending.pop(), frozenset()):
            if higher not in found:
                found.add(higher)
                pending.append(higher)
    return frozenset(found)


@functools.cache
def subjects_by_code() -> dict[str, Subject]:
    """Return the CSTF subjects by code."""
    return {subject.code: subject for subject in load_subjects()}


def subject_title(code: str) -> str:
    """Return the title of a subject code, or the code itself if unknown."""
    subject = subjects_by_code().get(code)
    return subject.title if subject else code


def seed_profiles(session: Session) -> int:
    """Store the bundled profiles that are not stored yet; return how many.

    Profiles already stored, edited or not, are left as they are.
    """
    bundled = json.loads(
        resources.files("verifier")
        .joinpath("data", "role_profiles.json")
        .read_text("utf-8")
    )
    added = 0
    for entry in bundled:
        if _find(session, entry["slug"]) is not None:
            continue
        save_profile(
            session,
            slug=entry["slug"],
            name=entry["name"],
            description=entry["description"],
            requirements=entry["requirements"],
            editor="seed",
        )
        added += 1
    return added


def _find(session: Session, slug: str) -> RoleProfile | None:
    return session.exec(select(RoleProfile).where(RoleProfile.slug == slug)).first()


def _as_profile(session: Session, row: RoleProfile) -> Profile:
    codes = session.exec(
        select(RoleRequirement.subject_code)
        .where(RoleRequirement.profile_id == row.id)
        .order_by(col(RoleRequirement.position))
    ).all()
    return Profile(row.slug, row.name, row.description, tuple(codes))


def list_profiles(session: Session) -> list[Profile]:
    """Return every stored profile, by name."""
    rows = session.exec(select(RoleProfile).order_by(col(RoleProfile.name))).all()
    return [_as_profile(session, row) for row in rows]


def get_profile(session: Session, slug: str) -> Profile:
    """Return the profile with ``slug``.

    :raises ProfileNotFound: naming the slug and the known ones.
    """
    row = _find(session, slug)
    if row is None:
        known = ", ".join(p.slug for p in list_profiles(session)) or "none"
        raise ProfileNotFound(
            f"No role profile has slug {slug!r}; known profiles: {known}."
        )
    return _as_profile(session, row)


def parse_requirements(text: str) -> list[str]:
    """Parse subject codes separated by commas, spaces or new lines."""
    return [part.strip().upper() for part in text.replace(",", " ").split()]


def save_profile(
    session: Session,
    *,
    slug: str,
    name: str,
    description: str,
    requirements: list[str],
    editor: str,
) -> Profile:
    """Create or replace a profile. The caller commits.

    :raises ProfileInvalid: for a bad slug, a blank name, no requirements,
        an unknown subject code or a code listed twice.
    """
    slug = slug.strip().lower()
    if not slug or not all(c.isalnum() or c == "-" for c in slug) or len(slug) > 64:
        raise ProfileInvalid(
            f"Profile slug {slug!r} must be 1 to 64 lower-case letters, digits "
            "or hyphens, such as 'registered-nurse-adult-ward'."
        )
    if not name.strip():
        raise ProfileInvalid("The profile name is blank; give the role's name.")
    if not requirements:
        raise ProfileInvalid("The profile requires no subjects; list at least one.")
    if len(requirements) > MAX_REQUIREMENTS:
        raise ProfileInvalid(
            f"The profile lists {len(requirements)} subjects; the limit is "
            f"{MAX_REQUIREMENTS}."
        )
    known = subjects_by_code()
    unknown = [code for code in requirements if code not in known]
    if unknown:
        raise ProfileInvalid(
            f"Unknown subject code(s) {', '.join(map(repr, unknown))}; use codes "
            f"such as {', '.join(list(known)[:4])} (all: {', '.join(known)})."
        )
    repeated = sorted({code for code in requirements if requirements.count(code) > 1})
    if repeated:
        raise ProfileInvalid(
            f"Subject code(s) {', '.join(repeated)} appear more than once; list "
            "each once."
        )

    row = _find(session, slug)
    if row is None:
        row = RoleProfile(slug=slug, name=name.strip())
    row.name = name.strip()
    row.description = description.strip()
    row.updated_at = datetime.now(UTC)
    row.updated_by = editor
    session.add(row)
    session.flush()
    session.exec(
        delete(RoleRequirement).where(col(RoleRequirement.profile_id) == row.id)
    )
    assert row.id is not None
    for position, code in enumerate(requirements):
        session.add(
            RoleRequirement(profile_id=row.id, subject_code=code, position=position)
        )
    session.flush()
    logger.info("role profile saved slug=%s", slug)
    return Profile(slug, row.name, row.description, tuple(requirements))
