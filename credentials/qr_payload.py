"""Compact text payload that carries one signed credential in a QR code.

A payload is ``SP1:`` followed by base45 (RFC 9285) of a zlib stream
(RFC 1950, with a fixed preset dictionary) of one CBOR item (RFC 8949). The
CBOR item is the credential in a semantic compression in the style of
CBOR-LD. JSON keys and well-known string values become small integers from
fixed tables. Typed strings such as ``did:key`` identifiers, ``urn:uuid:``
ids, base58btc multibase values and UTC date-times become tagged binary
values, and so do status list entries and addresses under the issuer's
did:web host. The decoded JSON equals the encoded JSON exactly (values,
types and string bytes; only key order may differ), because the proof signs
that JSON. docs/qr-payload.md specifies the format for other
implementations.

The three tables below and the preset dictionary are the format. A code is
never reused or renumbered, and a new entry is appended and gets the next
code. Appending does not change the version in the prefix, because payloads
that older encoders wrote decode as before; an older decoder rejects a
payload that uses a code it lacks. The version changes only when the
decoding of existing payloads would change.

Decoding treats its input as hostile. It limits the text length, the
decompressed size, the nesting depth and the number of decoded items, and it
raises :class:`QrPayloadInvalid` for anything that is not a payload this
module could have written."""

import contextvars
import functools
import hashlib
import io
import logging
import re
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from typing import Any, Final

import base45
import base58
import cbor2

from credentials.errors import CredentialError, MalformedDocument

logger = logging.getLogger(__name__)

#: Prefix of every payload. It uses only QR alphanumeric-mode characters.
PREFIX: Final = "SP1:"

#: Maximum payload length in characters: the alphanumeric capacity of the
#: largest QR code, version 40 at error correction level L.
MAX_TEXT_LENGTH: Final = 4296

#: Maximum size of the decompressed CBOR in bytes. The longest payload holds
#: at most 2,862 bytes of zlib data, so only a crafted stream (a zlib bomb)
#: expands more than eleven times beyond that.
MAX_CBOR_LENGTH: Final = 32768

#: Maximum nesting of JSON objects and arrays, the top-level object being 1.
#: A training credential nests 4 deep and a presentation of credentials about 6.
MAX_DEPTH: Final = 32

# The tables keep five entries to a line, and the comment at the end of each
# line is the code of its first entry. Codes 0 to 23 take one byte in CBOR,
# so they hold the keys and values that every credential has.
# fmt: off

#: Key codes: the CBOR unsigned integer ``n`` as a map key is ``KEY_TABLE[n]``.
KEY_TABLE: Final[tuple[str, ...]] = (
    "@context", "id", "type", "name", "issuer",  # 0
    "validFrom", "validUntil", "credentialSubject", "subjectCode", "level",  # 5
    "completionDate", "refresherPeriod", "cstfAligned", "achievement",  # 10
    "description",
    "criteria", "narrative", "proof", "cryptosuite", "created",  # 15
    "verificationMethod", "proofPurpose", "proofValue", "credentialStatus",  # 20
    "statusPurpose",
    "statusListIndex", "statusListCredential", "challenge", "domain",  # 25
    "nonce",
    "expires", "previousProof", "holder", "verifiableCredential",  # 30
    "credentialSchema",
    "evidence", "termsOfUse", "refreshService",  # 35
)

#: Value codes: a CBOR integer where a JSON value stands is ``VALUE_TABLE[n]``.
VALUE_TABLE: Final[tuple[str, ...]] = (
    "https://www.w3.org/ns/credentials/v2",  # 0
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    "https://staff-passport.example/contexts/training/v1",
    "VerifiableCredential", "OpenBadgeCredential",
    "TrainingCredential", "Profile", "AchievementSubject", "Achievement",  # 5
    "DataIntegrityProof",
    "eddsa-rdfc-2022", "eddsa-jcs-2022", "assertionMethod", "authentication",  # 10
    "Core Skills Training Framework (England) subject.",
    "Completed the Core Skills Training Framework learning outcomes for this "  # 15
    "subject and level.",
    "1", "2", "3", "P1Y",
    "P2Y", "P3Y", "BitstringStatusListEntry", "VerifiablePresentation",  # 20
    # Subject titles in the order of the subject codes from 48 on.
    "Conflict Resolution",  # 24
    "Equality, Diversity and Human Rights",
    "Fire Safety",
    "Health, Safety and Welfare",
    "Infection Prevention and Control - Level 1",
    "Infection Prevention and Control - Level 2",  # 29
    "Information Governance and Data Security",
    "Moving and Handling - Level 1",
    "Moving and Handling - Level 2",
    "Preventing Radicalisation - Basic Prevent Awareness",
    "Preventing Radicalisation - Level 3",  # 34
    "Resuscitation - Level 1",
    "Resuscitation - Level 2 - Adult Basic Life Support",
    "Resuscitation - Level 3 - Adult Immediate Life Support",
    "Resuscitation - Level 2 - Paediatric Basic Life Support",
    "Resuscitation - Level 3 - Paediatric Immediate Life Support",  # 39
    "Resuscitation - Level 2 - Newborn Basic Life Support",
    "Resuscitation - Level 3 - Newborn Life Support",
    "Safeguarding Adults - Level 1",
    "Safeguarding Adults - Level 2",
    "Safeguarding Adults - Level 3",  # 44
    "Safeguarding Children - Level 1",
    "Safeguarding Children - Level 2",
    "Safeguarding Children - Level 3",
    "CR", "EDHR",  # 48
    "FS", "HSW", "IPC1", "IPC2", "IGDS",  # 50
    "MH1", "MH2", "PR12", "PR3", "RES1",  # 55
    "RES2A", "RES3A", "RES2P", "RES3P", "RES2N",  # 60
    "RES3N", "SA1", "SA2", "SA3", "SC1",  # 65
    "SC2", "SC3", "revocation", "suspension",  # 70
    "https://www.w3.org/ns/credentials/undefined-terms/v2",
    "https://w3id.org/security/data-integrity/v2",  # 75
    "https://w3id.org/security/multikey/v1",
    "Multikey", "BitstringStatusListCredential", "BitstringStatusList",
    "ecdsa-rdfc-2019", "ecdsa-jcs-2019",  # 80
)

#: URL prefixes for tag 60004: ``[n, suffix]`` is ``PREFIX_TABLE[n] + suffix``.
PREFIX_TABLE: Final[tuple[str, ...]] = (
    "https://staff-passport.example/achievements/cstf/",  # 0
    "https://staff-passport.example/",
    "did:web:",
    "did:key:",
    "https://",
)

# fmt: on

# Tags with their registered meaning. Tag 1 carries whole epoch seconds
# rendered as YYYY-MM-DDTHH:MM:SSZ, tag 100 (RFC 8943) days since 1970-01-01
# rendered as YYYY-MM-DD, and tag 37 a UUID rendered as a lower-case urn:uuid.
TAG_EPOCH_DATE_TIME: Final = 1
TAG_POSITIVE_BIGNUM: Final = 2
TAG_NEGATIVE_BIGNUM: Final = 3
TAG_UUID: Final = 37
TAG_DAYS_SINCE_EPOCH: Final = 100

# Tags private to this format. They are not registered with IANA and mean
# nothing outside a payload.
TAG_INTEGER: Final = 60000
TAG_DID_KEY: Final = 60001
TAG_DID_KEY_URL: Final = 60002
TAG_MULTIBASE_BASE58BTC: Final = 60003
TAG_PREFIXED: Final = 60004
TAG_STATUS_ENTRY: Final = 60005
TAG_ISSUER_RELATIVE: Final = 60006

#: Schemes of tag 60006, by code.
ISSUER_RELATIVE_SCHEMES: Final[tuple[str, ...]] = ("https", "http")

#: The zlib preset dictionary (RFC 1950 FDICT): the compressed CBOR of a
#: typical training credential, so that the structure every credential
#: shares costs a few bytes instead of a hundred. It is part of the format
#: and never changes; ``DICTIONARY_SHA256`` pins it.
DICTIONARY_FILE: Final = "qr-payload-dictionary.cbor"

#: Maximum length of the did:web address that tag 60006 stands for.
MAX_WEB_BASE_LENGTH: Final = 200
DICTIONARY_SHA256: Final = (
    "3c6b52dc5d6eb9b38b67bdef646b633a3a910c9111301af18a59cc5978e75907"
)

#: Maximum byte length of a base58btc value carried as bytes. Base58 costs
#: time quadratic in the length; 256 bytes covers every common public key and
#: signature.
MAX_BASE58_BYTES: Final = 256
# 256 bytes take at most 350 base58 characters (256 * log(256) / log(58)).
_MAX_BASE58_CHARACTERS: Final = 350

# cbor2 6.3 decodes these tags itself, for example 28 and 29 into shared
# references. Overriding them keeps every tag a plain CBORTag for the walk
# below, which accepts only the tags of this format.
# NOTE: the list was found by probing cbor2 6.3.0. A tag that a later cbor2
# decodes itself yields a non-JSON type, which the walk rejects, and the item
# budget stops any expansion through shared references.
_CBOR2_SEMANTIC_TAGS: Final = (
    0, 1, 2, 3, 4, 5, 25, 28, 29, 30, 35, 36, 37, 52, 54, 100,
    256, 258, 260, 261, 1004, 43000, 55799,
)  # fmt: skip

_KEY_CODES: Final = {key: code for code, key in enumerate(KEY_TABLE)}
_VALUE_CODES: Final = {value: code for code, value in enumerate(VALUE_TABLE)}
_PREFIXES_LONGEST_FIRST: Final = sorted(
    enumerate(PREFIX_TABLE), key=lambda entry: len(entry[1]), reverse=True
)
_PREFIX_PATTERN: Final = re.compile(r"SP(?P<version>[0-9]+):")
_DATE_TIME_PATTERN: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"
)
_DATE_PATTERN: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_BASE58_PATTERN: Final = re.compile(
    "[123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz]*"
)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
_DID_KEY: Final = "did:key:z"
_URN_UUID: Final = "urn:uuid:"
_STATUS_ENTRY_TYPE: Final = "BitstringStatusListEntry"
_STATUS_ENTRY_KEYS: Final = frozenset(
    ("type", "statusPurpose", "statusListIndex", "statusListCredential")
)
# A statusListIndex written as the encoder can restore it: no sign, no
# leading zero, and small enough for a CBOR unsigned integer.
_DECIMAL_INDEX: Final = re.compile(r"0|[1-9][0-9]{0,17}")
_DID_WEB: Final = re.compile(
    r"did:web:([A-Za-z0-9.\-]+(?:%3A[0-9]+)?)((?::[A-Za-z0-9._\-]+)*)"
)

# The did:web issuer of the credential being encoded or decoded, as the
# "host/path" that its web addresses start with (tag 60006).
_issuer_web_base: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "_issuer_web_base", default=None
)
_RESCAN_ADVICE: Final = (
    "scan the QR code again, or ask the holder for the credential file"
)


class QrPayloadInvalid(CredentialError):
    """Text that is not a credential QR payload this module can decode."""


class QrPayloadTooLarge(CredentialError):
    """A credential whose payload would not fit in the largest QR code."""


def encode_credential(credential: dict[str, Any]) -> str:
    """Encode a JSON credential as a QR payload.

    :param credential: a JSON object as :func:`json.loads` returns it, with
        str keys and only dict, list, str, int, float, bool and None values.
    :returns: the payload, made only of QR alphanumeric-mode characters.
    :raises TypeError: if ``credential`` is not a dict.
    :raises MalformedDocument: if it contains a value JSON cannot hold, a
        string with a lone surrogate, or nests deeper than :data:`MAX_DEPTH`.
    :raises QrPayloadTooLarge: if the CBOR exceeds :data:`MAX_CBOR_LENGTH`
        bytes or the payload exceeds :data:`MAX_TEXT_LENGTH` characters.
    """
    if not isinstance(credential, dict):
        raise TypeError(
            f"Credential {type(credential).__name__!r} is not a dict; pass the "
            "JSON object as json.loads returns it."
        )
    cbor = credential_cbor(credential)
    if len(cbor) > MAX_CBOR_LENGTH:
        raise QrPayloadTooLarge(
            f"Credential {credential.get('id')!r} takes {len(cbor)} bytes of "
            f"CBOR, more than the {MAX_CBOR_LENGTH} a payload may hold; share "
            "it as a file instead of a QR code."
        )
    compressor = zlib.compressobj(9, zdict=preset_dictionary())
    body: bytes = base45.b45encode(compressor.compress(cbor) + compressor.flush())
    text = PREFIX + body.decode("ascii")
    if len(text) > MAX_TEXT_LENGTH:
        raise QrPayloadTooLarge(
            f"Credential {credential.get('id')!r} needs a payload of "
            f"{len(text)} characters, more than the {MAX_TEXT_LENGTH} the "
            "largest QR code holds; share it as a file instead."
        )
    logger.debug(
        "Encoded a credential as %d CBOR bytes, %d characters.", len(cbor), len(text)
    )
    return text


def credential_cbor(credential: dict[str, Any]) -> bytes:
    """Return the compressed CBOR of a credential, before zlib and base45.

    :raises MalformedDocument: as :func:`encode_credential` does.
    """
    return cbor2.dumps(_compress_credential(credential), canonical=True)


def decode_credential(text: str) -> dict[str, Any]:
    """Decode a QR payload back into the JSON credential it was made from.

    :param text: the text read from the QR code, unchanged.
    :returns: the credential, equal to the encoded one with its key order
        possibly changed. The proof is not checked here.
    :raises TypeError: if ``text`` is not a str.
    :raises QrPayloadInvalid: if the text is too long or has an unknown prefix
        or version, bad base45, a bad or oversized zlib stream, bad CBOR, a
        code missing from the tables, or a top level that is not an object.
    """
    if not isinstance(text, str):
        raise TypeError(
            f"Payload {type(text).__name__!r} is not a str; pass the text read "
            "from the QR code."
        )
    if len(text) > MAX_TEXT_LENGTH:
        raise QrPayloadInvalid(
            f"Payload {text[:12]!r}... has {len(text)} characters, more than "
            f"the {MAX_TEXT_LENGTH} a QR code holds; it is not a credential QR "
            "payload."
        )
    compressed = _base45_decode(_strip_prefix(text))
    cbor = _decompress(compressed)
    item = _parse_cbor(cbor)
    if not isinstance(item, dict):
        raise QrPayloadInvalid(
            f"Payload top level is {type(item).__name__!r}, not a CBOR map; a "
            f"credential is a JSON object, so {_RESCAN_ADVICE}."
        )
    credential = _expand_credential(item, size=len(cbor))
    logger.debug("Decoded a credential from %d CBOR bytes.", len(cbor))
    return credential


def _base45_decode(text: str) -> bytes:
    # The base45 package accepts a trailing newline, and any character
    # outside its alphabet raises there, so only the newline needs a check.
    if text.endswith("\n"):
        raise QrPayloadInvalid(
            f"Payload ends with a line break after {text[-12:-1]!r}; pass the "
            "text exactly as the QR code holds it."
        )
    try:
        compressed: bytes = base45.b45decode(text)
    except ValueError as error:
        raise QrPayloadInvalid(
            f"Payload body {text[:12]!r}... is not valid base45 (RFC 9285); "
            f"the code is damaged or incomplete, so {_RESCAN_ADVICE}."
        ) from error
    return compressed


def _strip_prefix(text: str) -> str:
    if text.startswith(PREFIX):
        return text[len(PREFIX) :]
    match = _PREFIX_PATTERN.match(text)
    if match is not None:
        raise QrPayloadInvalid(
            f"Payload version {match.group('version')!r} is not supported; this "
            f"software reads {PREFIX!r} payloads, so update it to read newer "
            "ones."
        )
    raise QrPayloadInvalid(
        f"Payload {text[:12]!r} does not start with {PREFIX!r}; scan a Staff "
        "Passport credential QR code."
    )


def _decompress(compressed: bytes) -> bytes:
    # A stream that names the preset dictionary gets it; one that names
    # none decodes as well, since the dictionary only adds matches.
    decompressor = zlib.decompressobj(zdict=preset_dictionary())
    try:
        cbor = decompressor.decompress(compressed, MAX_CBOR_LENGTH + 1)
    except zlib.error as error:
        raise QrPayloadInvalid(
            f"Payload data is not a valid zlib stream ({error}); the code is "
            f"damaged, so {_RESCAN_ADVICE}."
        ) from error
    if len(cbor) > MAX_CBOR_LENGTH:
        raise QrPayloadInvalid(
            f"Payload expands to more than {MAX_CBOR_LENGTH} bytes, which no "
            "credential payload does; reject it, because it was crafted."
        )
    if not decompressor.eof:
        raise QrPayloadInvalid(
            f"Payload zlib stream ends early after {len(compressed)} bytes; the "
            f"code is incomplete, so {_RESCAN_ADVICE}."
        )
    if decompressor.unused_data:
        raise QrPayloadInvalid(
            f"Payload has {len(decompressor.unused_data)} bytes after its zlib "
            f"stream; it was not written by this format, so {_RESCAN_ADVICE}."
        )
    return cbor


def _parse_cbor(cbor: bytes) -> object:
    stream = io.BytesIO(cbor)
    decoder = cbor2.CBORDecoder(
        stream,
        semantic_decoders={tag: _keep_tag(tag) for tag in _CBOR2_SEMANTIC_TAGS},
        # Two more levels for the tags and arrays inside one value.
        max_depth=MAX_DEPTH + 2,
        allow_indefinite=False,
        allow_duplicate_keys=False,
    )
    try:
        item = decoder.decode()
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError) as error:
        raise QrPayloadInvalid(
            f"Payload CBOR is invalid ({error}); {_RESCAN_ADVICE}."
        ) from error
    if stream.tell() != len(cbor):
        raise QrPayloadInvalid(
            f"Payload has {len(cbor) - stream.tell()} bytes after its CBOR item; "
            f"it was not written by this format, so {_RESCAN_ADVICE}."
        )
    return item


def _keep_tag(tag: int) -> Callable[[object, bool], cbor2.CBORTag]:
    def keep(value: object, immutable: bool) -> cbor2.CBORTag:
        return cbor2.CBORTag(tag, value)

    return keep


# --- The preset dictionary -------------------------------------------------


@functools.cache
def preset_dictionary() -> bytes:
    """Return the zlib preset dictionary of the format, checked against its hash.

    :raises RuntimeError: if the packaged file differs from the one the
        format defines, since every payload would then fail to decode.
    """
    data = resources.files("credentials").joinpath(DICTIONARY_FILE).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != DICTIONARY_SHA256:
        raise RuntimeError(
            f"{DICTIONARY_FILE} has SHA-256 {digest}, not {DICTIONARY_SHA256}; "
            "restore the file from the release, because it is part of the format."
        )
    return data


def issuer_web_base(issuer: object) -> str | None:
    """Return the ``host/path`` that a did:web issuer's web addresses start with.

    ``did:web:example.org%3A8443:orgs:a`` gives ``example.org:8443/orgs/a``,
    the address its DID document lives under. Any other issuer gives None.
    """
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(issuer_id, str):
        return None
    match = _DID_WEB.fullmatch(issuer_id)
    if match is None:
        return None
    host = match.group(1).replace("%3A", ":")
    segments = [segment for segment in match.group(2).split(":") if segment]
    base = "/".join([host, *segments])
    # Each tag 60006 repeats the base, so a long one would let a small
    # payload expand far; such issuers simply do not get the tag.
    return base if len(base) <= MAX_WEB_BASE_LENGTH else None


# --- Encoding ---------------------------------------------------------------


def _compress_credential(credential: dict[str, Any]) -> dict[int | str, object]:
    """Compress the top-level object; its issuer decides tag 60006's base.

    The issuer itself is compressed without that base, so a decoder can
    read it first and then everything that refers to it.
    """
    base = issuer_web_base(credential.get("issuer"))
    item: dict[int | str, object] = {}
    for key, value in credential.items():
        token = _issuer_web_base.set(None if key == "issuer" else base)
        try:
            item[_compress_key(key)] = _compress_value(value, depth=2)
        finally:
            _issuer_web_base.reset(token)
    return item


def _compress_value(value: object, *, depth: int) -> object:
    # bool before int, because bool is a subclass of int.
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        return cbor2.CBORTag(TAG_INTEGER, value)
    if isinstance(value, str):
        return _compress_text(value)
    if isinstance(value, dict | list):
        if depth > MAX_DEPTH:
            raise MalformedDocument(
                f"Credential nests objects and arrays deeper than {MAX_DEPTH} "
                "levels; flatten it, since a payload may not nest deeper."
            )
        if isinstance(value, list):
            return [_compress_value(element, depth=depth + 1) for element in value]
        entry = _compress_status_entry(value)
        if entry is not None:
            return entry
        return {
            _compress_key(key): _compress_value(element, depth=depth + 1)
            for key, element in value.items()
        }
    raise MalformedDocument(
        f"Credential value {value!r} of type {type(value).__name__!r} is not a "
        "JSON value; use dict, list, str, int, float, bool or None."
    )


def _compress_key(key: object) -> int | str:
    if not isinstance(key, str):
        raise MalformedDocument(
            f"Credential key {key!r} is not a str; JSON object keys are strings."
        )
    code = _KEY_CODES.get(key)
    if code is not None:
        return code
    _require_unicode(key)
    return key


def _compress_text(text: str) -> object:
    code = _VALUE_CODES.get(text)
    if code is not None:
        return code
    for compress in (
        _compress_date_time,
        _compress_date,
        _compress_urn_uuid,
        _compress_did_key,
        _compress_multibase,
        _compress_issuer_relative,
        _compress_prefixed,
    ):
        item = compress(text)
        if item is not None:
            return item
    _require_unicode(text)
    return text


def _require_unicode(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise MalformedDocument(
            f"Credential string {text[:40]!r} contains a lone surrogate at index "
            f"{error.start}, which UTF-8 cannot encode; fix the string."
        ) from error


def _compress_date_time(text: str) -> cbor2.CBORTag | None:
    if _DATE_TIME_PATTERN.fullmatch(text) is None:
        return None
    try:
        instant = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    seconds = (instant - _EPOCH) // timedelta(seconds=1)
    if _render_date_time(seconds) != text:
        return None
    return cbor2.CBORTag(TAG_EPOCH_DATE_TIME, seconds)


def _compress_date(text: str) -> cbor2.CBORTag | None:
    if _DATE_PATTERN.fullmatch(text) is None:
        return None
    try:
        day = date(int(text[0:4]), int(text[5:7]), int(text[8:10]))
    except ValueError:
        return None
    days = day.toordinal() - _EPOCH_ORDINAL
    if _render_date(days) != text:
        return None
    return cbor2.CBORTag(TAG_DAYS_SINCE_EPOCH, days)


def _compress_urn_uuid(text: str) -> cbor2.CBORTag | None:
    if not text.startswith(_URN_UUID) or len(text) != len(_URN_UUID) + 36:
        return None
    try:
        value = uuid.UUID(text[len(_URN_UUID) :])
    except ValueError:
        return None
    if _URN_UUID + str(value) != text:
        return None
    return cbor2.CBORTag(TAG_UUID, value.bytes)


def _compress_did_key(text: str) -> cbor2.CBORTag | None:
    if not text.startswith(_DID_KEY):
        return None
    did, separator, fragment = text.partition("#")
    key = _base58_bytes(did[len(_DID_KEY) :])
    if key is None:
        return None
    if not separator:
        return cbor2.CBORTag(TAG_DID_KEY, key)
    # A did:key verification method repeats the key as its fragment.
    if fragment == did[len("did:key:") :]:
        return cbor2.CBORTag(TAG_DID_KEY_URL, key)
    return None


def _compress_multibase(text: str) -> cbor2.CBORTag | None:
    # Short words such as "zoo" are cheaper as text than as tagged bytes.
    if not text.startswith("z") or len(text) < 16:
        return None
    raw = _base58_bytes(text[1:])
    if raw is None:
        return None
    return cbor2.CBORTag(TAG_MULTIBASE_BASE58BTC, raw)


def _compress_status_entry(value: dict[Any, Any]) -> cbor2.CBORTag | None:
    """Return tag 60005 for a plain BitstringStatusListEntry, else None.

    The entry's ``id``, when it is the list address, ``#`` and the index,
    is left out and rebuilt, and the index travels as an integer.
    """
    if set(value) - {"id"} != _STATUS_ENTRY_KEYS:
        return None
    purpose = value["statusPurpose"]
    index = value["statusListIndex"]
    status_list = value["statusListCredential"]
    if value["type"] != _STATUS_ENTRY_TYPE or not all(
        isinstance(field, str) for field in (purpose, index, status_list)
    ):
        return None
    if _DECIMAL_INDEX.fullmatch(index) is None:
        return None
    has_id = "id" in value
    if has_id and value["id"] != f"{status_list}#{index}":
        return None
    return cbor2.CBORTag(
        TAG_STATUS_ENTRY,
        [_compress_text(purpose), int(index), _compress_text(status_list), has_id],
    )


def _compress_issuer_relative(text: str) -> cbor2.CBORTag | None:
    base = _issuer_web_base.get()
    if base is None:
        return None
    for code, scheme in enumerate(ISSUER_RELATIVE_SCHEMES):
        prefix = f"{scheme}://{base}/"
        if text.startswith(prefix):
            suffix = text[len(prefix) :]
            _require_unicode(suffix)
            return cbor2.CBORTag(TAG_ISSUER_RELATIVE, [code, suffix])
    return None


def _compress_prefixed(text: str) -> cbor2.CBORTag | None:
    for code, prefix in _PREFIXES_LONGEST_FIRST:
        if text.startswith(prefix):
            suffix = text[len(prefix) :]
            _require_unicode(suffix)
            return cbor2.CBORTag(TAG_PREFIXED, [code, suffix])
    return None


def _base58_bytes(text: str) -> bytes | None:
    """Return the bytes that base58btc ``text`` renders, or None if none do."""
    if len(text) > _MAX_BASE58_CHARACTERS or not _BASE58_PATTERN.fullmatch(text):
        return None
    raw = base58.b58decode(text)
    if len(raw) > MAX_BASE58_BYTES or _base58_text(raw) != text:
        return None
    return raw


# --- Decoding ---------------------------------------------------------------


@dataclass
class _ItemBudget:
    """Bytes left to account for while walking the decoded CBOR.

    Every CBOR item takes at least one byte and every string at least its
    length, so a walk that needs more than the input length has met shared
    references, which this format never writes.
    """

    remaining: int

    def spend(self, amount: int) -> None:
        self.remaining -= amount
        if self.remaining < 0:
            raise QrPayloadInvalid(
                "Payload CBOR decodes to more items than its bytes can hold, "
                f"so it uses shared references, which this format never writes; "
                f"{_RESCAN_ADVICE}."
            )


def _expand_value(item: object, *, depth: int, budget: _ItemBudget) -> object:
    budget.spend(1)
    # bool before int, because bool is a subclass of int.
    if item is None or isinstance(item, bool | float):
        return item
    if isinstance(item, int):
        return _table_entry(VALUE_TABLE, item, "value")
    if isinstance(item, str):
        budget.spend(len(item))
        return item
    if isinstance(item, cbor2.CBORTag):
        return _expand_tag(item, budget)
    if isinstance(item, dict | list):
        if depth > MAX_DEPTH:
            raise QrPayloadInvalid(
                f"Payload nests objects and arrays deeper than {MAX_DEPTH} "
                f"levels, which no encoder of this format writes; {_RESCAN_ADVICE}."
            )
        if isinstance(item, list):
            return [
                _expand_value(element, depth=depth + 1, budget=budget)
                for element in item
            ]
        return _expand_map(item, depth=depth, budget=budget)
    raise QrPayloadInvalid(
        f"Payload contains a CBOR item of type {type(item).__name__!r}, which "
        f"this format never writes; {_RESCAN_ADVICE}."
    )


def _expand_credential(item: dict[object, object], *, size: int) -> dict[str, Any]:
    """Expand the top-level map: the issuer first, then the rest against it."""
    budget = _ItemBudget(remaining=size)
    budget.spend(1)
    issuer_key = next(
        (key for key in item if key in (_KEY_CODES["issuer"], "issuer")), None
    )
    issuer_item: dict[object, object] = (
        {issuer_key: item[issuer_key]} if issuer_key is not None else {}
    )
    token = _issuer_web_base.set(None)
    try:
        credential = _expand_map(issuer_item, depth=1, budget=budget)
    finally:
        _issuer_web_base.reset(token)
    rest = {key: value for key, value in item.items() if key != issuer_key}
    token = _issuer_web_base.set(issuer_web_base(credential.get("issuer")))
    try:
        for key, value in _expand_map(rest, depth=1, budget=budget).items():
            if key in credential:
                raise QrPayloadInvalid(
                    f"Payload object has key {key!r} twice, once as a code and "
                    f"once as text; {_RESCAN_ADVICE}."
                )
            credential[key] = value
    finally:
        _issuer_web_base.reset(token)
    return credential


def _expand_map(
    item: dict[object, object], *, depth: int, budget: _ItemBudget
) -> dict[str, object]:
    expanded: dict[str, object] = {}
    for raw_key, raw_value in item.items():
        budget.spend(1)
        if isinstance(raw_key, int) and not isinstance(raw_key, bool):
            key = _table_entry(KEY_TABLE, raw_key, "key")
        elif isinstance(raw_key, str):
            budget.spend(len(raw_key))
            key = raw_key
        else:
            raise QrPayloadInvalid(
                f"Payload map key {raw_key!r} is neither a key code nor a text "
                f"string; {_RESCAN_ADVICE}."
            )
        if key in expanded:
            raise QrPayloadInvalid(
                f"Payload object has key {key!r} twice, once as a code and once "
                f"as text; {_RESCAN_ADVICE}."
            )
        expanded[key] = _expand_value(raw_value, depth=depth + 1, budget=budget)
    return expanded


def _table_entry(table: tuple[str, ...], code: int, kind: str) -> str:
    if 0 <= code < len(table):
        return table[code]
    raise QrPayloadInvalid(
        f"Payload uses {kind} code {code!r}, which is not in this software's "
        f"{kind} table of {len(table)} entries; a newer encoder wrote it, so "
        "update this software."
    )


def _expand_tag(tag: cbor2.CBORTag, budget: _ItemBudget) -> object:
    value = tag.value
    if isinstance(value, bytes):
        budget.spend(len(value))
    if tag.tag == TAG_EPOCH_DATE_TIME and _is_int(value):
        return _render_date_time(value)
    if tag.tag == TAG_DAYS_SINCE_EPOCH and _is_int(value):
        return _render_date(value)
    if tag.tag == TAG_UUID and isinstance(value, bytes) and len(value) == 16:
        return _URN_UUID + str(uuid.UUID(bytes=value))
    if tag.tag == TAG_INTEGER:
        return _expand_integer(value)
    if tag.tag == TAG_DID_KEY and _is_base58_payload(value):
        return _DID_KEY + _base58_text(value)
    if tag.tag == TAG_DID_KEY_URL and _is_base58_payload(value):
        key = "z" + _base58_text(value)
        return f"did:key:{key}#{key}"
    if tag.tag == TAG_MULTIBASE_BASE58BTC and _is_base58_payload(value):
        return "z" + _base58_text(value)
    if tag.tag == TAG_PREFIXED:
        return _expand_prefixed(value, budget)
    if tag.tag == TAG_STATUS_ENTRY:
        return _expand_status_entry(value, budget)
    if tag.tag == TAG_ISSUER_RELATIVE:
        return _expand_issuer_relative(value, budget)
    raise QrPayloadInvalid(
        f"Payload contains CBOR tag {tag.tag!r} with a {type(value).__name__!r} "
        f"value, which this format does not define; {_RESCAN_ADVICE}."
    )


def _expand_integer(value: object) -> int:
    if _is_int(value):
        return value  # type: ignore[return-value]
    if isinstance(value, cbor2.CBORTag) and isinstance(value.value, bytes):
        magnitude = int.from_bytes(value.value, "big")
        if value.tag == TAG_POSITIVE_BIGNUM:
            return magnitude
        if value.tag == TAG_NEGATIVE_BIGNUM:
            return -1 - magnitude
    raise QrPayloadInvalid(
        f"Payload integer tag {TAG_INTEGER} holds {value!r:.40}, not an integer "
        f"or bignum; {_RESCAN_ADVICE}."
    )


def _expand_prefixed(value: object, budget: _ItemBudget) -> str:
    # cbor2 returns an array inside a tag as a tuple.
    if (
        isinstance(value, tuple | list)
        and len(value) == 2
        and _is_int(value[0])
        and isinstance(value[1], str)
    ):
        budget.spend(len(value[1]))
        return _table_entry(PREFIX_TABLE, value[0], "prefix") + value[1]
    raise QrPayloadInvalid(
        f"Payload prefix tag {TAG_PREFIXED} holds {value!r:.40}, not [prefix "
        f"code, suffix text]; {_RESCAN_ADVICE}."
    )


def _expand_status_entry(value: object, budget: _ItemBudget) -> dict[str, object]:
    if (
        isinstance(value, tuple | list)
        and len(value) == 4
        and _is_int(value[1])
        and value[1] >= 0
        and isinstance(value[3], bool)
    ):
        purpose = _expand_value(value[0], depth=MAX_DEPTH, budget=budget)
        status_list = _expand_value(value[2], depth=MAX_DEPTH, budget=budget)
        if isinstance(purpose, str) and isinstance(status_list, str):
            index = str(value[1])
            entry: dict[str, object] = {}
            if value[3]:
                entry["id"] = f"{status_list}#{index}"
            entry["type"] = _STATUS_ENTRY_TYPE
            entry["statusPurpose"] = purpose
            entry["statusListIndex"] = index
            entry["statusListCredential"] = status_list
            return entry
    raise QrPayloadInvalid(
        f"Payload status entry tag {TAG_STATUS_ENTRY} holds {value!r:.60}, not "
        f"[purpose, index, list address, has id]; {_RESCAN_ADVICE}."
    )


def _expand_issuer_relative(value: object, budget: _ItemBudget) -> str:
    base = _issuer_web_base.get()
    if base is None:
        raise QrPayloadInvalid(
            f"Payload uses an address relative to a did:web issuer (tag "
            f"{TAG_ISSUER_RELATIVE}), but its issuer is not a did:web DID; "
            f"{_RESCAN_ADVICE}."
        )
    if (
        isinstance(value, tuple | list)
        and len(value) == 2
        and _is_int(value[0])
        and isinstance(value[1], str)
    ):
        scheme = _table_entry(ISSUER_RELATIVE_SCHEMES, value[0], "scheme")
        budget.spend(len(value[1]))
        return f"{scheme}://{base}/{value[1]}"
    raise QrPayloadInvalid(
        f"Payload issuer-relative tag {TAG_ISSUER_RELATIVE} holds {value!r:.40}, "
        f"not [scheme code, path]; {_RESCAN_ADVICE}."
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_base58_payload(value: object) -> bool:
    return isinstance(value, bytes) and len(value) <= MAX_BASE58_BYTES


def _base58_text(raw: bytes) -> str:
    return base58.b58encode(raw).decode("ascii")


def _render_date_time(seconds: int) -> str:
    try:
        instant = _EPOCH + timedelta(seconds=seconds)
    except OverflowError as error:
        raise QrPayloadInvalid(
            f"Payload date-time {seconds!r} seconds since 1970 lies outside "
            f"years 1 to 9999; {_RESCAN_ADVICE}."
        ) from error
    return (
        f"{instant.year:04d}-{instant.month:02d}-{instant.day:02d}"
        f"T{instant.hour:02d}:{instant.minute:02d}:{instant.second:02d}Z"
    )


def _render_date(days: int) -> str:
    try:
        day = date.fromordinal(_EPOCH_ORDINAL + days)
    except (ValueError, OverflowError) as error:
        raise QrPayloadInvalid(
            f"Payload date {days!r} days since 1970-01-01 lies outside years 1 "
            f"to 9999; {_RESCAN_ADVICE}."
        ) from error
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"
