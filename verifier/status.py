"""The ``status`` check: revocation and suspension by Bitstring Status List.

For each ``BitstringStatusListEntry`` of a credential, the status list
credential comes from the source the caller passes in. It is verified like
any credential (proof, issuer key, validity period), must come from the
credential's own issuer and serve the entry's purpose, and is then read at
the entry's index.

The check fails closed: a list that cannot be obtained, does not verify, or
is malformed in any way fails it with the reason. Only a clear bit in a
valid list counts as "not revoked" or "not suspended".
"""

from collections.abc import Callable
from typing import Any

from credentials.datamodel import issuer_id
from credentials.errors import StatusListInvalid
from credentials.status_list import (
    REVOCATION,
    SUSPENSION,
    StatusEntry,
    get_bit,
    parse_status_entries,
    read_list_credential,
)
from verifier.results import VerificationResult

StatusListSource = Callable[[str], Any]
"""Returns the status list credential published at a URL (parsed JSON), or
raises when it cannot be obtained. It must never fetch from an address the
caller has not allowed."""

VerifyListCredential = Callable[[Any], VerificationResult]

CHECK_ID = "status"

# The report's word for a set bit, by purpose.
_SET_MEANS = {REVOCATION: "revoked", SUSPENSION: "suspended"}


class StatusCache:
    """Status list credentials already obtained and verified in one run.

    A presentation of a whole passport names the same few lists for every
    credential, so each list is fetched and verified once.
    """

    def __init__(self) -> None:
        self._lists: dict[str, tuple[Any, str | None]] = {}

    def get(
        self, url: str, source: StatusListSource, verify: VerifyListCredential
    ) -> tuple[Any, str | None]:
        """Return the list credential at ``url`` and the reason it is unusable."""
        if url not in self._lists:
            self._lists[url] = _obtain(url, source, verify)
        return self._lists[url]


def check_status(
    result: VerificationResult,
    credential: dict[str, Any],
    *,
    source: StatusListSource | None,
    verify: VerifyListCredential,
    cache: StatusCache | None = None,
) -> None:
    """Add the ``status`` check for ``credential`` to ``result``."""
    try:
        entries = parse_status_entries(credential)
    except StatusListInvalid as error:
        result.add(
            CHECK_ID, False, f"The credential's status entry is invalid: {error}"
        )
        return
    if not entries:
        result.add(
            CHECK_ID,
            True,
            "The credential has no status list entry, so its issuer cannot "
            "revoke or suspend it.",
        )
        return
    if source is None:
        result.add(
            CHECK_ID,
            False,
            "Revocation and suspension were not checked: no status list "
            "source was given, so this result cannot show them.",
            severity="warning",
        )
        return

    cache = cache or StatusCache()
    findings = []
    for entry in entries:
        problem = _entry_problem(credential, entry, source, verify, cache)
        if problem is not None:
            result.add(CHECK_ID, False, problem)
            return
        findings.append(f"not {_SET_MEANS.get(entry.purpose, entry.purpose)}")
    result.add(
        CHECK_ID,
        True,
        f"The issuer's status lists say: {' and '.join(findings)}.",
    )


def _entry_problem(
    credential: dict[str, Any],
    entry: StatusEntry,
    source: StatusListSource,
    verify: VerifyListCredential,
    cache: StatusCache,
) -> str | None:
    list_credential, unusable = cache.get(entry.list_url, source, verify)
    if unusable is not None:
        return unusable
    if issuer_id(list_credential) != issuer_id(credential):
        return (
            f"The {entry.purpose} status list {entry.list_url!r} was issued by "
            f"{issuer_id(list_credential)!r}, not by the credential's issuer "
            f"{issuer_id(credential)!r}, so it cannot speak for it."
        )
    try:
        bits, _ = read_list_credential(list_credential, entry.purpose)
        is_set = get_bit(bits, entry.index)
    except StatusListInvalid as error:
        return (
            f"The {entry.purpose} status list {entry.list_url!r} is unusable: {error}"
        )
    if is_set:
        meaning = _SET_MEANS.get(entry.purpose, f"marked for {entry.purpose}")
        return (
            f"The issuer has {meaning} this credential (entry {entry.index} of "
            f"{entry.list_url})."
        )
    return None


def _obtain(
    url: str, source: StatusListSource, verify: VerifyListCredential
) -> tuple[Any, str | None]:
    try:
        list_credential = source(url)
    except Exception as error:  # any failure to obtain the list fails closed
        return None, f"The status list {url!r} could not be fetched: {error}"
    if not isinstance(list_credential, dict):
        return None, f"The status list {url!r} is not a JSON object."
    checked = verify(list_credential)
    if not checked.verified:
        failures = "; ".join(
            f"{check.id}: {check.message}"
            for check in checked.checks
            if not check.passed and check.severity == "error"
        )
        return None, f"The status list {url!r} failed verification ({failures})"
    return list_credential, None
