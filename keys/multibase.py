"""Multibase base58btc and multicodec prefixes for Ed25519 keys.

Multikey values are multibase strings: the character ``z`` followed by the
base58btc (Bitcoin alphabet) encoding of a multicodec varint header and the
raw key bytes. Ed25519 public keys use header ``0xed 0x01`` (so their text
starts ``z6Mk``) and Ed25519 seeds use ``0x80 0x26`` (text ``z3u2``).
"""

from functools import lru_cache

import base58

from keys.errors import InvalidKey, InvalidMultibase

ED25519_PUBLIC_HEADER = b"\xed\x01"
ED25519_SECRET_HEADER = b"\x80\x26"
ED25519_KEY_LENGTH = 32

# Multicodec headers of key types we recognise but do not support, so that an
# error can say what the key is instead of only "wrong header".
_OTHER_KEY_TYPES = {
    b"\xe7\x01": "secp256k1 (did:key zQ3s...)",
    b"\x80\x24": "P-256 (did:key zDn...)",
    b"\x81\x24": "P-384 (did:key z82...)",
    b"\xec\x01": "X25519 (did:key z6LS...)",
}

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
# Maps each byte to its base58 digit, and every byte outside the alphabet to 255.
_NOT_BASE58 = 255
_BASE58_TABLE = bytes(
    BASE58_ALPHABET.index(chr(byte)) if chr(byte) in BASE58_ALPHABET else _NOT_BASE58
    for byte in range(256)
)

# base58 of a 34-byte key is at most 47 characters; anything far longer is
# not a key and is rejected before decoding to bound the work.
_MAX_MULTIBASE_LENGTH = 200


def encode_base58btc(data: bytes) -> str:
    """Encode bytes as multibase base58btc text (``z`` prefix)."""
    return "z" + base58.b58encode(data).decode("ascii")


def decode_base58btc(text: str) -> bytes:
    """Decode multibase base58btc text (``z`` prefix) to bytes.

    :raises InvalidMultibase: if ``text`` is not a string, lacks the ``z``
        prefix or contains characters outside the base58btc alphabet.
    """
    if not isinstance(text, str):
        raise InvalidMultibase(
            f"Multibase value {text!r} is not a string; expected base58btc "
            "text starting with 'z'."
        )
    if len(text) > _MAX_MULTIBASE_LENGTH:
        raise InvalidMultibase(
            f"Multibase value of {len(text)} characters is too long; "
            f"the limit is {_MAX_MULTIBASE_LENGTH}."
        )
    if not text.startswith("z"):
        raise InvalidMultibase(
            f"Multibase value {text!r} does not start with 'z' (base58btc); "
            "only base58btc multibase is supported."
        )
    if len(text) < 2:
        raise InvalidMultibase(
            "Multibase value 'z' has no base58btc digits after the 'z'."
        )
    try:
        return _decode_base58(text[1:])
    except KeyError as error:
        raise InvalidMultibase(
            f"Multibase value {text!r} contains characters outside the "
            "base58btc alphabet."
        ) from error


# Five base58 digits make a number below 2**30, which CPython keeps in one
# machine digit, so the loop folds five at a time with cheap arithmetic.
_GROUP = 5
_GROUP_BASE = 58**_GROUP


def _decode_base58(text: str) -> bytes:
    """Decode base58 (Bitcoin alphabet), raising KeyError for a character outside it.

    Each leading ``1`` stands for a zero byte. The text is first translated
    to digit values in one C call, so the loop only folds numbers.
    """
    try:
        values = text.encode("ascii").translate(_BASE58_TABLE)
    except UnicodeEncodeError as error:
        raise KeyError(text) from error
    if _NOT_BASE58 in values:
        raise KeyError(text)
    head = len(values) % _GROUP
    number = 0
    for value in values[:head]:
        number = number * 58 + value
    digits = iter(values[head:])
    for a, b, c, d, e in zip(digits, digits, digits, digits, digits, strict=True):
        number = number * _GROUP_BASE + (((a * 58 + b) * 58 + c) * 58 + d) * 58 + e
    zeros = len(text) - len(text.lstrip("1"))
    return bytes(zeros) + number.to_bytes((number.bit_length() + 7) // 8, "big")


def _split_key(text: str, header: bytes, what: str) -> bytes:
    data = decode_base58btc(text)
    if data[:2] != header:
        known = _OTHER_KEY_TYPES.get(data[:2])
        if known:
            raise InvalidKey(
                f"{what} {text!r} is a {known} key; only Ed25519 keys are supported."
            )
        raise InvalidKey(
            f"{what} {text!r} has multicodec header {data[:2].hex()!r}; "
            f"expected {header.hex()!r} for an Ed25519 key."
        )
    key = data[2:]
    if len(key) != ED25519_KEY_LENGTH:
        raise InvalidKey(
            f"{what} {text!r} holds {len(key)} key bytes; an Ed25519 key "
            f"has exactly {ED25519_KEY_LENGTH}."
        )
    return key


def decode_public_key_multibase(text: str) -> bytes:
    """Return the 32 raw Ed25519 public key bytes of a ``z6Mk…`` Multikey.

    :raises InvalidMultibase: if the text is not base58btc multibase.
    :raises InvalidKey: if the header is not ``0xed01`` or the length is wrong.
    """
    if not isinstance(text, str):
        return _split_key(text, ED25519_PUBLIC_HEADER, "Public key")
    return _public_key(text)


# A verifier meets the same issuer keys again and again. Only public keys
# are remembered; secret keys are decoded afresh and never kept.
@lru_cache(maxsize=4096)
def _public_key(text: str) -> bytes:
    return _split_key(text, ED25519_PUBLIC_HEADER, "Public key")


def decode_secret_key_multibase(text: str) -> bytes:
    """Return the 32-byte Ed25519 seed of a ``z3u2…`` secret Multikey.

    :raises InvalidMultibase: if the text is not base58btc multibase.
    :raises InvalidKey: if the header is not ``0x8026`` or the length is wrong.
    """
    return _split_key(text, ED25519_SECRET_HEADER, "Secret key")


def encode_public_key_multibase(raw: bytes) -> str:
    """Encode 32 raw Ed25519 public key bytes as a ``z6Mk…`` Multikey value."""
    if len(raw) != ED25519_KEY_LENGTH:
        raise InvalidKey(f"An Ed25519 public key has 32 bytes, not {len(raw)}.")
    return encode_base58btc(ED25519_PUBLIC_HEADER + raw)


def encode_secret_key_multibase(seed: bytes) -> str:
    """Encode a 32-byte Ed25519 seed as a ``z3u2…`` secret Multikey value."""
    if len(seed) != ED25519_KEY_LENGTH:
        raise InvalidKey(f"An Ed25519 seed has 32 bytes, not {len(seed)}.")
    return encode_base58btc(ED25519_SECRET_HEADER + seed)
