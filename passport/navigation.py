"""The platform's main navigation, shown by role in the shared layout.

Each feature package adds its own line to :data:`NAV_LINKS`. A link shows
for accounts holding any of its roles; the home page sends a signed-in
account to the first link it may see.
"""

from dataclasses import dataclass

from accounts.roles import Role
from accounts.service import AccountView
from verifier.hr_profiles import HR_ADMIN
from verifier.registry_admin import PARTNERSHIP_ADMIN


@dataclass(frozen=True)
class NavLink:
    """A main navigation entry: its label, Flask endpoint and roles."""

    label: str
    endpoint: str
    roles: tuple[str, ...]


NAV_LINKS: tuple[NavLink, ...] = (
    NavLink("My training passport", "wallet.index", (Role.STAFF,)),
    NavLink("Share passport", "wallet_sharing.share", (Role.STAFF,)),
    NavLink("Sharing history", "wallet_sharing.history", (Role.STAFF,)),
    NavLink("Verify a credential", "hr.verify", (Role.HR,)),
    NavLink("Receive a passport", "hr_passport.receive", (Role.HR,)),
    NavLink("Role profiles", "hr_profiles.index", (HR_ADMIN,)),
    NavLink("Credential offers", "delivery.offers", (Role.STAFF,)),
    NavLink("Issuer administration", "issuer_admin.index", (Role.ISSUER_ADMIN,)),
    NavLink("Care tasks", "workflows.my_tasks", (Role.STAFF,)),
    NavLink("Trust registry", "registry_admin.members", (PARTNERSHIP_ADMIN,)),
)


def links_for(account: AccountView | None) -> list[NavLink]:
    """Return the links ``account`` may see, in order (none when signed out)."""
    if account is None:
        return []
    return [link for link in NAV_LINKS if account.has_role(*link.roles)]
