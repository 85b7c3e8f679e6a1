"""The Bitstring Status List v1.0 codec.

A status list is a bitstring in which each credential owns ``statusSize``
bits (one bit for revocation and suspension) at the position its
``statusListIndex`` names. Bit 0 is the most significant bit of byte 0, so
index 9 is the second most significant bit of byte 1. The list is published
as ``encodedList``: the letter ``u`` (multibase base64url) followed by the
base64url text, without padding, of the GZIP-compressed bitstring. A list
contains at least 131,072 entries (16 KiB), so that one holder's position
says little about them.

Nothing here fetches or verifies the status list credential itself; the
verifier does that and then calls :func:`read_status`.
"""

import base64
import binascii
import gzip
import re
import zlib
from dataclasses import dataclass
from typing import Any

from credentials.errors import CredentialError

MIN_ENTRIES = 131_072
MULTIBASE_BASE64URL = "u"

# A decompressed list larger than this is rejected: 16 MiB is room for 134 million
# one-bit entries, a thousand times the minimum, so only a crafted stream
# (a gzip bomb) expands further.
MAX_LIST_BYTES = 16 * 1024 * 1024

_DECIMAL_INDEX = re.compile(r"0|[1-9][0-9]*")
_MAX_INDEX_DIGITS = len(str(MAX_LIST_BYTES * 8 - 1))
_BASE64URL_TEXT = re.compile(r"[A-Za-z0-9_-]*")


class StatusListError(CredentialError):
    """A status list or status entry that cannot be read.

    A verifier treats it as a failed status check, never as "not revoked".
    """


@dataclass(frozen=True)
class Bitstring:
    """A decoded status list: its bytes and the bits per entry."""

    data: bytes
    status_size: int = 1

    @property
    def entries(self) -> int:
        """The number of entries in the list."""
        return len(self.data) * 8 // self.status_size


class MutableBitstring:
    """A status list being changed by its issuer."""

    def __init__(self, entries: int = MIN_ENTRIES, *, status_size: int = 1) -> None:
        if status_size < 1:
            raise StatusListError(
                f"Status size {status_size!r} is not a positive number of bits."
            )
        if entries < MIN_ENTRIES:
            raise StatusListError(
                f"A status list of {entries} entries is too small; the minimum "
                f"is {MIN_ENTRIES}, so that a position reveals little."
            )
        self.status_size = status_size
        self._data = bytearray((entries * status_size + 7) // 8)

    @classmethod
    def from_bitstring(cls, bitstring: Bitstring) -> "MutableBitstring":
        """Return a changeable copy of a decoded list."""
        copy = cls(MIN_ENTRIES, status_size=bitstring.status_size)
        copy._data = bytearray(bitstring.data)
        return copy

    @property
    def entries(self) -> int:
        """The number of entries in the list."""
        return len(self._data) * 8 // self.status_size

    def get(self, index: int) -> int:
        """Return the status value at ``index``."""
        return _read_bits(bytes(self._data), index, self.status_size)

    def set(self, index: int, value: int) -> None:
        """Set the status value at ``index`` (1 is revoked or suspended).

        :raises StatusListError: if the index is outside the list or the
            value does not fit in ``status_size`` bits.
        """
        _check_index(index, self.entries)
        if not 0 <= value < 2**self.status_size:
            raise StatusListError(
                f"Status value {value!r} does not fit in {self.status_size} bits."
            )
        first_bit = index * self.status_size
        for offset in range(self.status_size):
            bit = first_bit + offset
            mask = 0x80 >> (bit % 8)
            if value >> (self.status_size - 1 - offset) & 1:
                self._data[bit // 8] |= mask
            else:
                self._data[bit // 8] &= ~mask & 0xFF

    def freeze(self) -> Bitstring:
        """Return the current bits as an immutable :class:`Bitstring`."""
        return Bitstring(bytes(self._data), self.status_size)


def encode_list(bitstring: Bitstring | MutableBitstring) -> str:
    """Return the ``encodedList`` text of a status list.

    The GZIP header carries a zero modification time, so the same bits
    always encode to the same text and an unchanged list keeps its ETag.
    """
    if isinstance(bitstring, MutableBitstring):
        bitstring = bitstring.freeze()
    compressed = gzip.compress(bitstring.data, compresslevel=9, mtime=0)
    text = base64.urlsafe_b64encode(compressed).decode("ascii").rstrip("=")
    return MULTIBASE_BASE64URL + text


def decode_list(encoded: object, *, status_size: int = 1) -> Bitstring:
    """Decode an ``encodedList`` value.

    :raises StatusListError: naming the problem if the value is not a string,
        lacks the ``u`` prefix, has padding or characters outside base64url,
        is not GZIP data, expands beyond :data:`MAX_LIST_BYTES`, or holds
        fewer than :data:`MIN_ENTRIES` entries.
    """
    if not isinstance(encoded, str):
        raise StatusListError(
            f"encodedList {encoded!r:.40} is not a string; expected multibase "
            "base64url text starting with 'u'."
        )
    if not encoded.startswith(MULTIBASE_BASE64URL):
        raise StatusListError(
            f"encodedList {encoded[:12]!r}... does not start with 'u' (multibase "
            "base64url); the list cannot be read."
        )
    body = encoded[1:]
    if "=" in body:
        raise StatusListError(
            "encodedList has '=' padding, which multibase base64url does not "
            "use; the list cannot be read."
        )
    if not _BASE64URL_TEXT.fullmatch(body) or len(body) % 4 == 1:
        raise StatusListError(
            "encodedList contains characters outside the base64url alphabet "
            "or has an impossible length; the list cannot be read."
        )
    try:
        compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except binascii.Error as error:
        raise StatusListError(
            f"encodedList is not valid base64url ({error}); the list cannot be read."
        ) from error
    data = _gunzip(compressed)
    bitstring = Bitstring(data, status_size)
    if bitstring.entries < MIN_ENTRIES:
        raise StatusListError(
            f"The status list contains {bitstring.entries} entries; a Bitstring "
            f"Status List contains at least {MIN_ENTRIES}, so it is malformed."
        )
    return bitstring


def parse_index(value: object) -> int:
    """Parse a ``statusListIndex``, which is a base-10 integer in a string.

    :raises StatusListError: for a number, a negative or signed value, a
        leading zero, anything but decimal digits, or more digits than the
        largest index of a list within :data:`MAX_LIST_BYTES`.
    """
    if not isinstance(value, str) or not _DECIMAL_INDEX.fullmatch(value):
        raise StatusListError(
            f"statusListIndex {value!r} is not a non-negative base-10 integer "
            'written as a string, such as "94567".'
        )
    # CPython's int() raises ValueError beyond 4,300 digits by default, and an
    # index longer than the last index of the largest decodable list is past
    # the end of every list.
    if len(value) > _MAX_INDEX_DIGITS:
        raise StatusListError(
            f"statusListIndex {value[:20]}... has {len(value)} digits; no status "
            f"list has more than {MAX_LIST_BYTES * 8} entries."
        )
    return int(value)


def read_status(bitstring: Bitstring, index: int) -> int:
    """Return the status value at ``index``.

    :raises StatusListError: if the index is past the end of the list.
    """
    _check_index(index, bitstring.entries)
    return _read_bits(bitstring.data, index, bitstring.status_size)


def _check_index(index: int, entries: int) -> None:
    if not 0 <= index < entries:
        raise StatusListError(
            f"statusListIndex {index} is outside the status list, which has "
            f"entries 0 to {entries - 1}."
        )


def _read_bits(data: bytes, index: int, status_size: int) -> int:
    value = 0
    first_bit = index * status_size
    for bit in range(first_bit, first_bit + status_size):
        value = value << 1 | (data[bit // 8] >> (7 - bit % 8)) & 1
    return value


def _gunzip(compressed: bytes) -> bytes:
    # wbits 16 + MAX_WBITS accepts only the GZIP container, so zlib or raw
    # deflate data is reported as not GZIP.
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = decompressor.decompress(compressed, MAX_LIST_BYTES + 1)
    except zlib.error as error:
        raise StatusListError(
            f"encodedList is not GZIP-compressed data ({error}); the list "
            "cannot be read."
        ) from error
    if len(data) > MAX_LIST_BYTES:
        raise StatusListError(
            f"The status list expands beyond {MAX_LIST_BYTES} bytes; it is "
            "rejected as a compression bomb."
        )
    if not decompressor.eof:
        raise StatusListError(
            "encodedList ends before its GZIP stream does; the list is truncated."
        )
    return data


# The data model of status entries and status list credentials, as an
# issuer writes them (W3C Bitstring Status List v1.0, section 2).

ENTRY_TYPE = "BitstringStatusListEntry"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
LIST_TYPE = "BitstringStatusList"
REVOCATION = "revocation"
SUSPENSION = "suspension"
PURPOSES = (REVOCATION, SUSPENSION)


def build_status_entry(list_url: str, purpose: str, index: int) -> dict[str, Any]:
    """Return a ``BitstringStatusListEntry`` pointing at ``index`` of a list.

    ``statusListIndex`` is written as a base-10 string, as the data model
    requires.
    """
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
    bitstring: Bitstring | MutableBitstring,
    valid_from: str,
    valid_until: str | None = None,
    ttl_ms: int | None = None,
) -> dict[str, Any]:
    """Return the unsigned ``BitstringStatusListCredential`` of a list.

    :param ttl_ms: how long verifiers may cache the list, in milliseconds.
    """
    subject: dict[str, Any] = {
        "id": f"{list_url}#list",
        "type": LIST_TYPE,
        "statusPurpose": purpose,
        "encodedList": encode_list(bitstring),
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
