"""The trust registry's service API: members in the database, the
partnership's signing key, and the signed document.

Nothing here imports Flask; the command line and the partnership
administrator's pages call these functions with a session and the key store.
"""

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from audit.log import record_event
from keys.multikey import Ed25519KeyPair
from keys.store import KeyStore
from verifier.errors import RegistryMemberInvalid
from verifier.models import RegistryMember, VerifierSetting
from verifier.registry import CSTF_KIND, IssuerRegistry, TrustedIssuer, origin_of
from verifier.registry_document import build_registry_credential

logger = logging.getLogger(__name__)

SIGNING_KEY_SETTING = "registry_signing_key"
PUBLISHED_DOCUMENT_SETTING = "registry_document"
PARTNERSHIP_NAME = "Staff Passport partnership"
DEFAULT_KINDS = ("TrainingCredential",)


@dataclass(frozen=True)
class MemberInput:
    """A member entry as an administrator enters it."""

    did: str
    name: str
    slug: str = ""
    cstf_aligned: bool = False
    may_issue: tuple[str, ...] = DEFAULT_KINDS
    member_from: datetime | None = None
    member_until: datetime | None = None
    origins: tuple[str, ...] = ()


def _check_member(member: MemberInput) -> None:
    if not member.did.startswith(("did:key:", "did:web:")):
        raise RegistryMemberInvalid(
            f"DID {member.did!r} is not a did:key or did:web DID; copy the "
            "organisation's DID from its did.json or its issuer page."
        )
    if not member.name.strip():
        raise RegistryMemberInvalid(f"Member {member.did!r} has a blank name.")
    if CSTF_KIND in member.may_issue and not member.cstf_aligned:
        raise RegistryMemberInvalid(
            f"{member.name} may issue national CSTF subjects ({CSTF_KIND!r}) only "
            "after declaring CSTF alignment; tick the alignment first or remove "
            f"{CSTF_KIND!r}."
        )
    for kind in member.may_issue:
        if not kind or not kind.replace("-", "").isalnum():
            raise RegistryMemberInvalid(
                f"Credential kind {kind!r} is not a type name such as "
                "'TrainingCredential' or 'cstf'."
            )
    for origin in member.origins:
        parts = urlsplit(origin)
        if (
            parts.scheme not in ("https", "http")
            or not parts.hostname
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
            or parts.username is not None
        ):
            raise RegistryMemberInvalid(
                f"Origin {origin!r} is not a bare origin such as "
                "'https://trust.example' or 'https://trust.example:8443' (no "
                "path, query or user name)."
            )
    if (
        member.member_from is not None
        and member.member_until is not None
        and member.member_until <= member.member_from
    ):
        raise RegistryMemberInvalid(
            f"{member.name} leaves ({member.member_until.isoformat()}) before it "
            f"joins ({member.member_from.isoformat()})."
        )


def save_member(
    session: Session, member: MemberInput, *, editor: str
) -> RegistryMember:
    """Add a member, or replace the entry with the same DID. The caller commits.

    :raises RegistryMemberInvalid: naming the bad field and the fix.
    """
    _check_member(member)
    row = session.exec(
        select(RegistryMember).where(RegistryMember.did == member.did)
    ).first()
    if row is None:
        row = RegistryMember(did=member.did, name=member.name)
    row.name = member.name.strip()
    row.slug = member.slug
    row.cstf_aligned = member.cstf_aligned
    row.may_issue = json.dumps(sorted(set(member.may_issue)))
    row.origins = json.dumps([origin_of(origin) for origin in member.origins])
    row.member_from = member.member_from
    row.member_until = member.member_until
    row.updated_at = datetime.now(UTC)
    row.updated_by = editor
    session.add(row)
    session.flush()
    record_event(
        session,
        "registry.member_saved",
        actor=editor,
        organisation=member.slug or None,
        target=member.did,
        details={
            "cstf_aligned": member.cstf_aligned,
            "may_issue": sorted(set(member.may_issue)),
            "member_from": _stamp(member.member_from),
            "member_until": _stamp(member.member_until),
        },
    )
    logger.info("registry member saved did=%s", member.did)
    return row


def _stamp(instant: datetime | None) -> str | None:
    return instant.isoformat() if instant is not None else None


def end_membership(
    session: Session, did: str, *, at: datetime, editor: str
) -> RegistryMember:
    """Record that the member with ``did`` left at ``at``. The caller commits.

    Credentials it issued before ``at`` stay trusted.

    :raises RegistryMemberInvalid: if no member has that DID.
    """
    row = session.exec(select(RegistryMember).where(RegistryMember.did == did)).first()
    if row is None:
        raise RegistryMemberInvalid(f"No registry member has DID {did!r}.")
    if row.member_from is not None and at <= row.member_from:
        raise RegistryMemberInvalid(
            f"{row.name} joined on {row.member_from.isoformat()}; it cannot leave "
            f"on {at.isoformat()}."
        )
    row.member_until = at
    row.updated_at = datetime.now(UTC)
    row.updated_by = editor
    session.add(row)
    record_event(
        session,
        "registry.member_left",
        actor=editor,
        organisation=row.slug or None,
        target=did,
        details={"member_until": at.isoformat()},
    )
    logger.info("registry member left did=%s", did)
    return row


def as_trusted_issuer(row: RegistryMember) -> TrustedIssuer:
    """Return a stored member as the pipeline uses it."""
    return TrustedIssuer(
        did=row.did,
        name=row.name,
        slug=row.slug,
        cstf_aligned=row.cstf_aligned,
        may_issue=frozenset(json.loads(row.may_issue)),
        member_from=row.member_from,
        member_until=row.member_until,
        origins=tuple(json.loads(row.origins)),
    )


def list_members(session: Session) -> list[RegistryMember]:
    """Return every member, by name."""
    return list(session.exec(select(RegistryMember).order_by(col(RegistryMember.name))))


def load_registry(session: Session) -> IssuerRegistry:
    """Return the registry stored in the database."""
    return IssuerRegistry(as_trusted_issuer(row) for row in list_members(session))


def signing_key(session: Session, key_store: KeyStore) -> Ed25519KeyPair:
    """Return the partnership's registry signing key, creating it on first use.

    The caller commits.
    """
    setting = session.get(VerifierSetting, SIGNING_KEY_SETTING)
    if setting is not None:
        return key_store.load(session, setting.value)
    key_pair = Ed25519KeyPair.generate()
    key_store.add(session, key_pair)
    session.add(
        VerifierSetting(name=SIGNING_KEY_SETTING, value=key_pair.verification_method_id)
    )
    session.flush()
    logger.info("registry signing key created did=%s", key_pair.did)
    return key_pair


def publish_registry(
    session: Session,
    key_store: KeyStore,
    *,
    now: datetime,
    name: str = PARTNERSHIP_NAME,
    editor: str = "system",
) -> dict[str, Any]:
    """Sign the current registry and store it as the latest published copy.

    The platform's own did:web members get their current DID documents
    embedded, so a key rotated later reaches verifiers with the next copy.

    The public registry URL serves the stored copy. The caller commits.
    """
    from issuer.organisations import platform_did_documents

    key_pair = signing_key(session, key_store)
    document = build_registry_credential(
        load_registry(session),
        signer=key_pair,
        publisher_did=key_pair.did,
        name=name,
        published_at=now,
        did_documents=platform_did_documents(session),
    )
    text = json.dumps(document, indent=2, ensure_ascii=False)
    setting = session.get(VerifierSetting, PUBLISHED_DOCUMENT_SETTING)
    if setting is None:
        setting = VerifierSetting(name=PUBLISHED_DOCUMENT_SETTING, value=text)
    setting.value = text
    session.add(setting)
    session.flush()
    record_event(
        session,
        "registry.published",
        actor=editor,
        target=document["id"],
        details={"members": len(document["credentialSubject"]["member"])},
    )
    logger.info(
        "registry published members=%d publisher=%s",
        len(document["credentialSubject"]["member"]),
        key_pair.did,
    )
    return document


def latest_published_registry(session: Session) -> str | None:
    """Return the JSON text of the last published registry, or None."""
    setting = session.get(VerifierSetting, PUBLISHED_DOCUMENT_SETTING)
    return setting.value if setting is not None else None


def add_platform_organisations(
    session: Session,
    *,
    origin: str,
    member_from: datetime | None,
    editor: str,
) -> list[RegistryMember]:
    """Add every organisation of this platform that the registry lacks.

    Each organisation is listed under its did:web and, when it has one,
    under the did:key of its first key, with ``origin`` (the platform's
    public origin) as its fetch origin. CSTF-aligned organisations may
    issue national CSTF subjects. Entries that exist are left as they are,
    so running this again changes nothing, and a membership an
    administrator ended stays ended. The caller commits.

    :returns: the entries added.
    """
    from issuer.models import Organisation

    known = {row.did for row in list_members(session)}
    added = []
    organisations = session.exec(select(Organisation).order_by(col(Organisation.id)))
    for organisation in organisations:
        kinds = DEFAULT_KINDS + ((CSTF_KIND,) if organisation.cstf_aligned else ())
        for did in dict.fromkeys((organisation.did, organisation.did_key)):
            if not did or did in known:
                continue
            member = MemberInput(
                did=did,
                name=organisation.name,
                slug=organisation.slug,
                cstf_aligned=organisation.cstf_aligned,
                may_issue=kinds,
                member_from=member_from,
                origins=(origin_of(origin),),
            )
            added.append(save_member(session, member, editor=editor))
            known.add(did)
    return added
