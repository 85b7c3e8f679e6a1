"""The Bitstring Status List v1.0 codec and status entry shapes.

A status list is a bitstring of at least 131,072 entries. Index 0 is the
left-most bit, which is the most significant bit of the first byte, so
index 9 is the second-most-significant bit of byte 1. ``encodedList`` is
``u`` (multibase base64url) followed by the unpadded base64url of the
GZIP-compressed bitstring (W3C Bitstring Status List v1.0, sections 2.2
and 3.4).

Decoding is strict: anything but exactly that form raises
:class:`StatusListInvalid`, so a malformed list can never read as "not
revoked". Nothing here fetches a list; callers pass the list credential in.
"""

import base64
import gzip
import re
import zlib
from dataclasses import dataclass
from typing import Any

from credentials.datamodel import as_list, is_url
from credentials.errors import StatusListInvalid

MIN_ENTRIES = 131_072
"""The minimum number of entries in a list (16 KiB of bits)."""

MAX_LIST_BYTES = 16 * 1024 * 1024
"""The largest decompressed list accepted, to bound a GZIP bomb: 134 million
entries, a thousand times the minimum."""

ENTRY_TYPE = "BitstringStatusListEntry"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
LIST_TYPE = "BitstringStatusList"
MULTIBASE_BASE64URL = "u"

REVOCATION = "revocation"
SUSPENSION = "suspension"
PURPOSES = (REVOCATION, SUSPENSION)

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_DECIMAL = re.compile(r"[0-9]+")
# The largest index accepted: beyond this no list within MAX_LIST_BYTES
# reaches, and parsing a longer digit string would only waste work.
_MAX_INDEX_DIGITS = 12


@dataclass(frozen=True)
class StatusEntry:
    """One ``BitstringStatusListEntry`` of a credential's ``credentialStatus``."""

    id: str | None
    purpose: str
    index: int
    list_url: str


def new_bitstring(entries: int = MIN_ENTRIES) -> bytearray:
    """Return an all-clear bitstring of ``entries`` bits.

    :raises ValueError: if ``entries`` is below :data:`MIN_ENTRIES` or not a
        multiple of 8.
    """
    if entries < MIN_ENTRIES or entries % 8:
        raise ValueError(
            f"A status list needs at least {MIN_ENTRIES} entries in whole bytes, "
            f"not {entries}."
        )
    return bytearray(entries // 8)


def get_bit(bits: bytes | bytearray, index: int) -> bool:
    """Return whether entry ``index`` is set (index 0 is the MSB of byte 0).

    :raises StatusListInvalid: if ``index`` is negative or past the end.
    """
    _check_index(bits, index)
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def set_bit(bits: bytearray, index: int, value: bool) -> None:
    """Set or clear entry ``index`` in place.

    :raises StatusListInvalid: if ``index`` is negative or past the end.
    """
    _check_index(bits, index)
    mask = 0x80 >> (index % 8)
    if value:
        bits[index // 8] |= mask
    else:
        bits[index // 8] &= ~mask & 0xFF


def encode_list(bits: bytes | bytearray) -> str:
    """Return the ``encodedList`` text of a bitstring.

    The GZIP header carries no file name and a zero modification time, so
    the same bits always encode to the same text.
    """
    compressed = gzip.compress(bytes(bits), compresslevel=9, mtime=0)
    text = base64.urlsafe_b64encode(compressed).decode("ascii").rstrip("=")
    return MULTIBASE_BASE64URL + text


def decode_list(encoded: object, *, min_entries: int = MIN_ENTRIES) -> bytes:
    """Return the bitstring of an ``encodedList``.

    :raises StatusListInvalid: naming the problem: not a string, no ``u``
        prefix, padding or characters outside base64url, not GZIP data,
        trailing data, larger than :data:`MAX_LIST_BYTES` once expanded, or
        fewer than ``min_entries`` entries.
    """
    if not isinstance(encoded, str):
        raise StatusListInvalid(f"encodedList {_short(encoded)} is not a string.")
    if not encoded.startswith(MULTIBASE_BASE64URL):
        raise StatusListInvalid(
            f"encodedList {_short(encoded)} does not start with 'u', the "
            "multibase prefix of base64url."
        )
    text = encoded[1:]
    if "=" in text:
        raise StatusListInvalid(
            "encodedList has '=' padding; base64url in a status list is written "
            "without padding."
        )
    if _BASE64URL.fullmatch(text) is None or len(text) % 4 == 1:
        raise StatusListInvalid(
            "encodedList is not base64url: it has characters outside A-Z, a-z, "
            "0-9, '-' and '_', or a length no base64url text has."
        )
    compressed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    bits = _gunzip(compressed)
    if len(bits) * 8 < min_entries:
        raise StatusListInvalid(
            f"The status list has {len(bits) * 8} entries; a list must have at "
            f"least {min_entries}."
        )
    return bits


def parse_status_index(value: object) -> int:
    """Return ``statusListIndex`` as an integer.

    :raises StatusListInvalid: unless ``value`` is a string of decimal
        digits, as the specification requires (no sign, no spaces, no
        number type).
    """
    if not isinstance(value, str):
        raise StatusListInvalid(
            f"statusListIndex {value!r} is not a string; it must be a base-10 "
            'integer written as a string, such as "94567".'
        )
    if _DECIMAL.fullmatch(value) is None:
        raise StatusListInvalid(
            f"statusListIndex {value!r} is not a non-negative base-10 integer."
        )
    if len(value.lstrip("0")) > _MAX_INDEX_DIGITS:
        raise StatusListInvalid(f"statusListIndex {value!r} is too large.")
    return int(value)


def parse_status_entries(credential: dict[str, Any]) -> list[StatusEntry]:
    """Return the ``BitstringStatusListEntry`` items of ``credentialStatus``.

    Entries of other types are left out; a credential without
    ``credentialStatus`` has none.

    :raises StatusListInvalid: for an entry of this type that lacks a field
        or has a malformed one.
    """
    entries = []
    for item in as_list(credential.get("credentialStatus", [])):
        if not isinstance(item, dict) or ENTRY_TYPE not in as_list(item.get("type")):
            continue
        purpose = item.get("statusPurpose")
        if not isinstance(purpose, str) or not purpose:
            raise StatusListInvalid(
                f"credentialStatus statusPurpose {purpose!r} is not a string."
            )
        list_url = item.get("statusListCredential")
        if not is_url(list_url):
            raise StatusListInvalid(
                f"credentialStatus statusListCredential {list_url!r} is not a URL."
            )
        if item.get("statusSize", 1) != 1:
            raise StatusListInvalid(
                f"credentialStatus statusSize {item.get('statusSize')!r} is not "
                "supported; only one-bit statuses (revocation, suspension) are."
            )
        entry_id = item.get("id")
        entries.append(
            StatusEntry(
                id=entry_id if isinstance(entry_id, str) else None,
                purpose=purpose,
                index=parse_status_index(item.get("statusListIndex")),
                list_url=list_url,  # type: ignore[arg-type]
            )
        )
    return entries


def build_status_entry(list_url: str, purpose: str, index: int) -> dict[str, Any]:
    """Return a ``BitstringStatusListEntry`` pointing at ``index`` of a list."""
    return {
        "id": f"{list_url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def build_list_credential(
    *,
    list_url: str,
    issuer: str,
    purpose: str,
    bits: bytes | bytearray,
    valid_from: str,
    valid_until: str | None = None,
    ttl_ms: int | None = None,
) -> dict[str, Any]:
    """Return the unsigned ``BitstringStatusListCredential`` for ``bits``."""
    subject: dict[str, Any] = {
        "id": f"{list_url}#list",
        "type": LIST_TYPE,
        "statusPurpose": purpose,
        "encodedList": encode_list(bits),
    }
    if ttl_ms is not None:
        subject["ttl"] = ttl_ms
    credential: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": list_url,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": issuer,
        "validFrom": valid_from,
    }
    if valid_until is not None:
        credential["validUntil"] = valid_until
    credential["credentialSubject"] = subject
    return credential


def read_list_credential(
    credential: dict[str, Any], purpose: str
) -> tuple[bytes, dict[str, Any]]:
    """Return the bits of a status list credential for ``purpose``, and its subject.

    Only the list's shape is checked here; its proof and validity period are
    the verifier's job.

    :raises StatusListInvalid: if the credential is not a
        ``BitstringStatusListCredential`` for ``purpose`` or its list does
        not decode.
    """
    if LIST_CREDENTIAL_TYPE not in as_list(credential.get("type")):
        raise StatusListInvalid(
            f"The status list credential has type {credential.get('type')!r}, "
            f"not {LIST_CREDENTIAL_TYPE!r}."
        )
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict) or LIST_TYPE not in as_list(subject.get("type")):
        raise StatusListInvalid(
            f"The status list credential's subject is not a {LIST_TYPE!r}."
        )
    purposes = as_list(subject.get("statusPurpose"))
    if purpose not in purposes:
        raise StatusListInvalid(
            f"The status list is for {subject.get('statusPurpose')!r}, but the "
            f"credential's entry is for {purpose!r}."
        )
    return decode_list(subject.get("encodedList")), subject


def _gunzip(compressed: bytes) -> bytes:
    if not compressed.startswith(b"\x1f\x8b"):
        raise StatusListInvalid(
            "encodedList is not GZIP data (it lacks the GZIP magic bytes 1f 8b)."
        )
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        bits = decompressor.decompress(compressed, MAX_LIST_BYTES + 1)
    except zlib.error as error:
        raise StatusListInvalid(
            f"encodedList is not valid GZIP data: {error}."
        ) from None
    if len(bits) > MAX_LIST_BYTES:
        raise StatusListInvalid(
            f"encodedList expands to more than {MAX_LIST_BYTES} bytes, so the "
            "list is rejected as too large."
        )
    if not decompressor.eof:
        raise StatusListInvalid("encodedList holds truncated GZIP data.")
    if decompressor.unused_data:
        raise StatusListInvalid(
            "encodedList has data after the end of its GZIP stream."
        )
    return bits


def _check_index(bits: bytes | bytearray, index: int) -> None:
    if index < 0:
        raise StatusListInvalid(f"Status list index {index} is negative.")
    if index >= len(bits) * 8:
        raise StatusListInvalid(
            f"Status list index {index} is past the end of the list, which has "
            f"{len(bits) * 8} entries."
        )


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
