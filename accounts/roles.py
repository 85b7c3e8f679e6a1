"""Roles: what a signed-in account may do, and for which organisation.

A role is a short lower-case name stored as text in ``role_grant.role``, so
a package adds a role by calling :func:`define_role` when it is imported; no
migration is needed. An account holds any number of grants, each naming a
role and, for organisation-scoped roles, the organisation it acts for (an HR
officer of one trust, an assessor at the university). Pages check roles with
:func:`accounts.auth.require_role`.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

_ROLE_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


class Role(StrEnum):
    """The roles the training passport itself defines."""

    STAFF = "staff"
    HR = "hr"
    ISSUER_ADMIN = "issuer_admin"


@dataclass(frozen=True)
class RoleDefinition:
    """A role's stored name, its label for people, and whether it needs an
    organisation."""

    name: str
    label: str
    organisation_scoped: bool


_DEFINITIONS: dict[str, RoleDefinition] = {}


def define_role(name: str, label: str, *, organisation_scoped: bool = True) -> str:
    """Register a role and return its name, for use as a module constant.

    Defining the same role again with the same label and scope is allowed, so
    re-importing a module is harmless.

    :raises ValueError: if ``name`` is not 1-32 lower-case letters, digits or
        underscores starting with a letter, or is already defined differently.
    """
    if not _ROLE_NAME.fullmatch(name):
        raise ValueError(
            f"Role name {name!r} is invalid; use 1-32 lower-case letters, digits "
            "or underscores, starting with a letter."
        )
    definition = RoleDefinition(name, label, organisation_scoped)
    existing = _DEFINITIONS.setdefault(name, definition)
    if existing != definition:
        raise ValueError(
            f"Role {name!r} is already defined as {existing!r}; pick another name."
        )
    return name


def role_definition(name: str) -> RoleDefinition | None:
    """Return the definition of role ``name``, or None if no package defined it."""
    return _DEFINITIONS.get(name)


def role_label(name: str) -> str:
    """Return the label of role ``name`` for pages, or the name if undefined."""
    definition = _DEFINITIONS.get(name)
    return definition.label if definition is not None else name


define_role(Role.STAFF, "Staff member", organisation_scoped=False)
define_role(Role.HR, "HR officer")
define_role(Role.ISSUER_ADMIN, "Issuer administrator")
