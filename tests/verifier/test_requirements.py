"""Role requirement profiles: seeded data, levels that satisfy others, edits."""

import pytest

from passport.db import session_scope
from verifier.errors import ProfileInvalid, ProfileNotFound
from verifier.requirements import (
    get_profile,
    list_profiles,
    satisfying_codes,
    save_profile,
    seed_profiles,
)


@pytest.mark.parametrize(
    ("code", "satisfied_by"),
    [
        ("SA1", {"SA1", "SA2", "SA3"}),
        ("SA2", {"SA2", "SA3"}),
        ("SA3", {"SA3"}),
        ("RES2A", {"RES2A", "RES3A"}),
        ("RES1", {"RES1", "RES2A", "RES3A", "RES2P", "RES3P", "RES2N", "RES3N"}),
        ("IPC1", {"IPC1", "IPC2"}),
        ("FS", {"FS"}),
    ],
)
def test_satisfying_codes(code, satisfied_by):
    assert satisfying_codes(code) == satisfied_by


def test_paediatric_does_not_satisfy_adult():
    assert "RES3P" not in satisfying_codes("RES2A")


def test_seeded_profiles(migrated_engine):
    with session_scope(migrated_engine) as session:
        added = seed_profiles(session)
    with session_scope(migrated_engine) as session:
        again = seed_profiles(session)
        nurse = get_profile(session, "registered-nurse-adult-ward")
        slugs = [profile.slug for profile in list_profiles(session)]

    assert added == len(slugs) >= 5
    assert again == 0
    assert {"RES2A", "SA2", "SC2", "IPC2", "MH2", "FS", "IGDS"} <= set(
        nurse.requirements
    )
    assert "administrative-clerical" in slugs


def test_seed_keeps_edited_profile(migrated_engine):
    with session_scope(migrated_engine) as session:
        seed_profiles(session)
        save_profile(
            session,
            slug="midwife",
            name="Midwife",
            description="Edited",
            requirements=["FS"],
            editor="1",
        )
    with session_scope(migrated_engine) as session:
        seed_profiles(session)
        assert get_profile(session, "midwife").requirements == ("FS",)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"requirements": ["FS", "XYZ"]}, "Unknown subject code"),
        ({"requirements": []}, "requires no subjects"),
        ({"requirements": ["FS", "FS"]}, "more than once"),
        ({"slug": "Bad Slug!"}, "slug"),
        ({"name": "  "}, "name is blank"),
    ],
)
def test_invalid_profile_rejected(migrated_engine, changes, message):
    fields = {
        "slug": "porter",
        "name": "Porter",
        "description": "",
        "requirements": ["FS"],
        "editor": "1",
    }
    fields.update(changes)
    with session_scope(migrated_engine) as session:
        with pytest.raises(ProfileInvalid, match=message):
            save_profile(session, **fields)


def test_unknown_profile_named(migrated_engine):
    with session_scope(migrated_engine) as session:
        with pytest.raises(ProfileNotFound, match="'porter'"):
            get_profile(session, "porter")
