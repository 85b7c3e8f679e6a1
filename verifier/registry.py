"""The partnership's trust registry, as the verifier uses it.

Each member is an organisation with a DID, the kinds of credential it may
issue, the period of its membership and the origins from which its status
lists and ``did:web`` documents may be fetched. The registry answers two
questions for a credential: is the issuer a member, and was it allowed to
issue this kind of credential at the instant it issued it? A member that
left stays trusted for what it issued before it left.

Credential kinds are the credential's own types, without the generic
``VerifiableCredential`` and ``OpenBadgeCredential``, plus :data:`CSTF_KIND`
for a national Core Skills Training Framework subject. Only members that
declared CSTF alignment may issue that kind.
"""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from credentials.datamodel import as_list

CSTF_KIND = "cstf"
"""The kind of a credential for a national CSTF subject."""

CSTF_ACHIEVEMENT_PREFIX = "https://staff-passport.example/achievements/cstf/"
"""Achievement ids of national CSTF subjects start with this URL."""

GENERIC_TYPES = frozenset({"VerifiableCredential", "OpenBadgeCredential"})


def credential_kinds(document: dict[str, Any]) -> frozenset[str]:
    """Return the kinds of credential ``document`` is, for registry permissions."""
    kinds = {
        value
        for value in as_list(document.get("type", []))
        if isinstance(value, str) and value not in GENERIC_TYPES
    }
    for subject in as_list(document.get("credentialSubject", [])):
        if not isinstance(subject, dict):
            continue
        achievement = subject.get("achievement")
        achievement_id = (
            achievement.get("id") if isinstance(achievement, dict) else None
        )
        if isinstance(achievement_id, str) and achievement_id.startswith(
            CSTF_ACHIEVEMENT_PREFIX
        ):
            kinds.add(CSTF_KIND)
    return frozenset(kinds)


def origin_of(url: str) -> str:
    """Return the origin (``scheme://host[:port]``) of ``url``, lower-cased.

    The default port of the scheme is left out, so ``https://a.example:443``
    and ``https://a.example`` have the same origin.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"https": 443, "http": 80}.get(scheme)
    if port is None or port == default:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


@dataclass(frozen=True)
class TrustedIssuer:
    """A partnership member that issues credentials under ``did``.

    :param may_issue: the credential kinds the member may issue; empty
        means any kind except :data:`CSTF_KIND` unless ``cstf_aligned``.
    :param member_from: the instant membership began (None: always).
    :param member_until: the instant the member left (None: still a member).
    :param origins: origins such as ``https://trust.example`` from which its
        status lists and did:web documents may be fetched.
    """

    did: str
    name: str
    slug: str = ""
    cstf_aligned: bool = False
    may_issue: frozenset[str] = field(default_factory=frozenset)
    member_from: datetime | None = None
    member_until: datetime | None = None
    origins: tuple[str, ...] = ()

    def was_member_at(self, instant: datetime) -> bool:
        """Return whether the organisation was a member at ``instant``."""
        if self.member_from is not None and instant < self.member_from:
            return False
        return self.member_until is None or instant < self.member_until

    def refused_kinds(self, kinds: Iterable[str]) -> list[str]:
        """Return the kinds among ``kinds`` this member may not issue."""
        refused = []
        for kind in sorted(kinds):
            if kind == CSTF_KIND and not self.cstf_aligned:
                refused.append(kind)
            elif self.may_issue and kind not in self.may_issue:
                refused.append(kind)
        return refused

    def allows_origin(self, url: str) -> bool:
        """Return whether ``url`` is on one of the member's listed origins."""
        return origin_of(url) in {origin_of(origin) for origin in self.origins}


class IssuerAssessment(NamedTuple):
    """Whether an issuer is a member and may issue a credential, in words."""

    member: TrustedIssuer | None
    allowed: bool
    message: str


class IssuerRegistry:
    """A lookup of trusted issuers by DID.

    :param did_documents: members' did:web documents by DID, as a signed
        registry document embeds them; verification resolves these DIDs
        from here with no request.
    """

    def __init__(
        self,
        issuers: Iterable[TrustedIssuer] = (),
        *,
        did_documents: Mapping[str, dict[str, Any]] | None = None,
    ) -> None:
        self._by_did = {issuer.did: issuer for issuer in issuers}
        self.did_documents: dict[str, dict[str, Any]] = dict(did_documents or {})

    def __len__(self) -> int:
        return len(self._by_did)

    def __iter__(self) -> Iterator[TrustedIssuer]:
        return iter(self._by_did.values())

    def lookup(self, did: str | None) -> TrustedIssuer | None:
        """Return the member that issues under ``did``, or None."""
        if did is None:
            return None
        return self._by_did.get(did)

    def assess(
        self, did: str | None, document: dict[str, Any], issued_at: datetime | None
    ) -> IssuerAssessment:
        """Decide whether ``did`` may have issued ``document`` at ``issued_at``.

        :param issued_at: the issuance instant (the proof's ``created``, else
            ``validFrom``); None when the credential states neither, which
            is not allowed, since membership cannot then be checked.
        """
        member = self.lookup(did)
        if member is None:
            return IssuerAssessment(
                None, False, f"Issuer {did!r} is not in the trust registry."
            )
        if issued_at is None:
            return IssuerAssessment(
                member,
                False,
                f"{member.name} is a member, but the credential states no "
                "issuance time, so membership at issuance cannot be checked.",
            )
        if not member.was_member_at(issued_at):
            return IssuerAssessment(
                member,
                False,
                f"{member.name} was not a partnership member on "
                f"{issued_at.isoformat()}, when the credential was issued"
                f"{_membership_period(member)}.",
            )
        refused = member.refused_kinds(credential_kinds(document))
        if refused:
            reasons = [
                "national CSTF subjects (it has not declared CSTF alignment)"
                if kind == CSTF_KIND and not member.cstf_aligned
                else repr(kind)
                for kind in refused
            ]
            return IssuerAssessment(
                member,
                False,
                f"{member.name} is a member but is not allowed to issue "
                + " or ".join(reasons)
                + ".",
            )
        return IssuerAssessment(
            member,
            True,
            f"{member.name} was a member when it issued the credential and may "
            "issue this kind.",
        )


def _membership_period(member: TrustedIssuer) -> str:
    start = member.member_from.isoformat() if member.member_from else "the start"
    if member.member_until is None:
        return f" (a member from {start})"
    return f" (a member from {start} until {member.member_until.isoformat()})"


EMPTY_REGISTRY = IssuerRegistry()
