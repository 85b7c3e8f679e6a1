"""Revocation and suspension: Bitstring Status List entries, checked live.

A credential's ``credentialStatus`` entries name a status list credential
by URL. The list is fetched through the fence (only from origins the trust
registry lists for the issuer), its own signature and issuer are checked,
and it is cached with the instant it was fetched, so a report can show its
age. Anything that stops the list from being read fails closed: the
credential is then reported as not checked, never as "not revoked".

In offline mode nothing is fetched: the cached copy is used, however old,
and its age is shown; with no cached copy the check fails.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from credentials.datamodel import as_list, issuer_id
from credentials.status_list import (
    Bitstring,
    StatusListError,
    decode_list,
    parse_index,
    read_status,
)
from verifier.bounded_cache import BoundedCache
from verifier.errors import FetchError
from verifier.fetch import FencedFetcher

logger = logging.getLogger(__name__)

STATUS_ENTRY_TYPE = "BitstringStatusListEntry"
STATUS_LIST_TYPE = "BitstringStatusListCredential"
SUPPORTED_PURPOSES = ("revocation", "suspension")
DEFAULT_MAX_AGE = timedelta(minutes=5)

# Verifies a fetched status list credential and returns the problems found
# (empty when it verified).
ListVerifier = Callable[[dict[str, Any]], list[str]]


class StatusUnavailable(Exception):
    """A status list that could not be fetched, verified or read."""


@dataclass(frozen=True)
class CachedStatusList:
    """A verified status list credential and when it was fetched."""

    url: str
    issuer: str
    purpose: str
    bitstring: Bitstring
    fetched_at: datetime
    valid_until: datetime | None = None

    def age(self, now: datetime) -> timedelta:
        """Return how long ago the list was fetched."""
        return max(now - self.fetched_at, timedelta(0))


class StatusListStore(Protocol):
    """Where fetched lists are kept between verifications."""

    def get(self, url: str) -> CachedStatusList | None: ...

    def put(self, entry: CachedStatusList) -> None: ...


# The decoded lists one process keeps, bounded by total decoded size. 64 MiB
# is room for 4,096 lists of the minimum 16 KiB, which by our estimate is
# far more than a partnership of a few dozen issuers publishes.
MAX_STORED_LIST_BYTES = 64 * 1024 * 1024


class MemoryStatusListStore:
    """A per-process store of fetched lists, bounded by their decoded size.

    :param max_bytes: the most decoded list bytes kept; the least recently
        used list leaves first.
    """

    def __init__(self, max_bytes: int = MAX_STORED_LIST_BYTES) -> None:
        self._entries: BoundedCache[CachedStatusList] = BoundedCache(
            max_bytes, weigh=lambda entry: len(entry.bitstring.data)
        )

    def get(self, url: str) -> CachedStatusList | None:
        return self._entries.get(url)

    def put(self, entry: CachedStatusList) -> None:
        self._entries.put(entry.url, entry)


def describe_age(age: timedelta) -> str:
    """Return an age such as ``3 minutes`` or ``2 days`` in words."""
    seconds = int(age.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


class StatusListCache:
    """Fetches, verifies and caches status lists.

    :param fetcher: the fenced fetcher; None means offline.
    :param max_age: a cached list younger than this is used without a fetch.
    :param offline: never fetch; use cached lists of any age.
    :param verify_list: checks a fetched list credential's proof and returns
        the problems found; the pipeline passes its own verification.
    """

    def __init__(
        self,
        fetcher: FencedFetcher | None,
        *,
        max_age: timedelta = DEFAULT_MAX_AGE,
        offline: bool = False,
        store: StatusListStore | None = None,
        verify_list: ListVerifier | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.max_age = max_age
        self.offline = offline or fetcher is None
        self.store = store or MemoryStatusListStore()
        self.verify_list = verify_list

    def get(
        self,
        url: str,
        *,
        issuer: str,
        purpose: str,
        allowed_origins: tuple[str, ...],
        now: datetime,
        verify_list: ListVerifier | None = None,
    ) -> CachedStatusList:
        """Return the list at ``url``, fetching it when the cached copy is stale.

        :raises StatusUnavailable: naming why the list cannot be used.
        """
        cached = self.store.get(url)
        if cached is not None and (
            cached.issuer != issuer or cached.purpose != purpose
        ):
            cached = None
        if self.offline:
            if cached is None:
                raise StatusUnavailable(
                    f"Offline, and no copy of the status list {url!r} was cached."
                )
            return cached
        if cached is not None and cached.age(now) < self.max_age:
            return cached
        assert self.fetcher is not None
        try:
            fetched = self.fetcher.fetch_json(url, allowed_origins)
        except FetchError as error:
            logger.warning("status list unavailable url=%s: %s", url, error)
            raise StatusUnavailable(str(error)) from error
        entry = self._read_list(
            url, fetched.document, issuer, purpose, now, verify_list or self.verify_list
        )
        self.store.put(entry)
        return entry

    def _read_list(
        self,
        url: str,
        document: Any,
        issuer: str,
        purpose: str,
        now: datetime,
        verify_list: ListVerifier | None,
    ) -> CachedStatusList:
        if not isinstance(document, dict):
            raise StatusUnavailable(f"The status list at {url!r} is not a JSON object.")
        if STATUS_LIST_TYPE not in as_list(document.get("type")):
            raise StatusUnavailable(
                f"The document at {url!r} has type {document.get('type')!r}, not "
                f"{STATUS_LIST_TYPE!r}."
            )
        list_issuer = issuer_id(document)
        if list_issuer != issuer:
            raise StatusUnavailable(
                f"The status list at {url!r} was issued by {list_issuer!r}, not by "
                f"the credential's issuer {issuer!r}."
            )
        if verify_list is None:
            raise StatusUnavailable(
                f"The status list at {url!r} could not be verified: no verifier "
                "was configured."
            )
        problems = verify_list(document)
        if problems:
            raise StatusUnavailable(
                f"The status list at {url!r} failed verification: " + " ".join(problems)
            )
        subject = document.get("credentialSubject")
        if not isinstance(subject, dict):
            raise StatusUnavailable(
                f"The status list at {url!r} has no single credentialSubject."
            )
        purposes = as_list(subject.get("statusPurpose"))
        if purpose not in purposes:
            raise StatusUnavailable(
                f"The status list at {url!r} is for {subject.get('statusPurpose')!r}, "
                f"not {purpose!r}."
            )
        size = subject.get("statusSize", 1)
        if not isinstance(size, int) or size < 1:
            raise StatusUnavailable(
                f"The status list at {url!r} has statusSize {size!r}; expected a "
                "positive integer."
            )
        try:
            bitstring = decode_list(subject.get("encodedList"), status_size=size)
        except StatusListError as error:
            raise StatusUnavailable(str(error)) from error
        return CachedStatusList(
            url=url,
            issuer=issuer,
            purpose=purpose,
            bitstring=bitstring,
            fetched_at=now,
        )


@dataclass(frozen=True)
class StatusOutcome:
    """The result of the status check, with a reason code for reports.

    ``reason`` is one of ``"ok"``, ``"no-status"``, ``"not-checked"``,
    ``"revoked"``, ``"suspended"`` or ``"unavailable"``.
    """

    passed: bool
    reason: str
    message: str
    warning: bool = False


# The two outcomes that name no list are the same every time.
NO_STATUS = StatusOutcome(
    True,
    "no-status",
    "The credential has no status entry, so its issuer cannot revoke or suspend it.",
)
STATUS_NOT_CHECKED = StatusOutcome(
    False,
    "not-checked",
    "Live status was not checked: this verification ran without access to "
    "the issuer's status list, so a revocation or suspension would not show.",
    warning=True,
)


def status_entries(document: dict[str, Any]) -> list[Any]:
    """Return the ``credentialStatus`` entries of a credential."""
    if "credentialStatus" not in document:
        return []
    return as_list(document["credentialStatus"])


def check_status(
    document: dict[str, Any],
    *,
    lists: StatusListCache | None,
    allowed_origins: tuple[str, ...],
    now: datetime,
    verify_list: ListVerifier | None = None,
) -> StatusOutcome:
    """Check every status entry of ``document`` against its list.

    :param lists: the status list cache; None when the verification runs
        with no status source at all (an offline QR code), which is reported
        as a warning that live status was not checked.
    """
    entries = status_entries(document)
    if not entries:
        return NO_STATUS
    if lists is None:
        return STATUS_NOT_CHECKED
    issuer = issuer_id(document) or ""
    notes = []
    for position, entry in enumerate(entries, start=1):
        outcome = _check_entry(
            entry, position, issuer, lists, allowed_origins, now, verify_list
        )
        if isinstance(outcome, StatusOutcome):
            return outcome
        notes.append(outcome)
    return StatusOutcome(
        True, "ok", "Not revoked or suspended: " + "; ".join(notes) + "."
    )


def _check_entry(
    entry: Any,
    position: int,
    issuer: str,
    lists: StatusListCache,
    allowed_origins: tuple[str, ...],
    now: datetime,
    verify_list: ListVerifier | None,
) -> StatusOutcome | str:
    where = f"Status entry {position}"
    if not isinstance(entry, dict) or entry.get("type") != STATUS_ENTRY_TYPE:
        return StatusOutcome(
            False,
            "unavailable",
            f"{where} is not a {STATUS_ENTRY_TYPE}, so the status cannot be read.",
        )
    purpose = entry.get("statusPurpose")
    if purpose not in SUPPORTED_PURPOSES:
        return StatusOutcome(
            False,
            "unavailable",
            f"{where} has statusPurpose {purpose!r}; only revocation and "
            "suspension are supported.",
        )
    url = entry.get("statusListCredential")
    try:
        index = parse_index(entry.get("statusListIndex"))
        status_list = lists.get(
            url if isinstance(url, str) else repr(url),
            issuer=issuer,
            purpose=purpose,
            allowed_origins=allowed_origins,
            now=now,
            verify_list=verify_list,
        )
        value = read_status(status_list.bitstring, index)
    except (StatusListError, StatusUnavailable) as error:
        return StatusOutcome(
            False,
            "unavailable",
            f"The {purpose} status could not be read, so the credential is not "
            f"accepted: {error}",
        )
    age = describe_age(status_list.age(now))
    if value:
        reason = "revoked" if purpose == "revocation" else "suspended"
        return StatusOutcome(
            False,
            reason,
            f"The issuer has {reason} this credential (status list fetched {age} ago).",
        )
    return f"{purpose} list fetched {age} ago"
