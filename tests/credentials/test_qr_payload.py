"""The QR payload codec: round trips of real credentials and hostile input."""

import hashlib
import json
import uuid
import zlib
from collections import Counter
from datetime import date

import base45
import cbor2
import pytest
import rfc8785

from credentials.proofs import add_proof
from credentials.qr_payload import (
    DICTIONARY_SHA256,
    KEY_TABLE,
    MAX_CBOR_LENGTH,
    MAX_DEPTH,
    MAX_TEXT_LENGTH,
    PREFIX,
    PREFIX_TABLE,
    TAG_DID_KEY,
    TAG_ISSUER_RELATIVE,
    TAG_PREFIXED,
    TAG_STATUS_ENTRY,
    VALUE_TABLE,
    QrPayloadInvalid,
    QrPayloadTooLarge,
    credential_cbor,
    decode_credential,
    encode_credential,
    preset_dictionary,
)
from issuer.esr_export import ExportRow, read_export
from issuer.training import build_training_credential
from keys.multikey import Ed25519KeyPair
from verifier import verify_credential
from wallet_web.qr import qr_version_for

EXAMPLE_EXPORT = "examples/esr_team_export_chelmer_valley.csv"
AS_OF = date(2026, 3, 31)
ISSUER = Ed25519KeyPair.from_seed(hashlib.sha256(b"qr payload test issuer").digest())


def _holder(employee_number: str) -> Ed25519KeyPair:
    return Ed25519KeyPair.from_seed(hashlib.sha256(employee_number.encode()).digest())


@pytest.fixture(scope="module")
def demo_credentials():
    """Every credential the example export issues, signed with both suites."""
    credentials = []
    rows = [
        r for r in read_export(EXAMPLE_EXPORT, as_of=AS_OF) if isinstance(r, ExportRow)
    ]
    for index, row in enumerate(rows):
        unsigned = build_training_credential(
            credential_id=f"urn:uuid:{uuid.UUID(int=index + 1, version=4)}",
            issuer_id=ISSUER.did,
            holder_id=_holder(row.employee_number).did,
            display_name=row.display_name,
            subject=row.subject,
            completed=row.achievement_date,
            cstf_aligned=True,
        )
        suite = "eddsa-jcs-2022" if index % 10 == 0 else "eddsa-rdfc-2022"
        credentials.append(
            add_proof(
                unsigned,
                signer=ISSUER,
                cryptosuite=suite,
                created="2026-03-31T09:00:00Z",
            )
        )
    return credentials


def _canonical(document):
    return rfc8785.dumps(document)


def test_demo_credentials_round_trip_exactly(demo_credentials):
    assert len(demo_credentials) > 500
    for credential in demo_credentials:
        decoded = decode_credential(encode_credential(credential))
        assert _canonical(decoded) == _canonical(credential)
        # The stored text differs only in key order, never in a value.
        assert json.dumps(decoded, sort_keys=True, ensure_ascii=False) == json.dumps(
            credential, sort_keys=True, ensure_ascii=False
        )


def test_demo_credentials_verify_after_round_trip(demo_credentials):
    suites = Counter()
    for credential in demo_credentials:
        decoded = decode_credential(encode_credential(credential))
        result = verify_credential(decoded, now=None)
        assert result.check("proof").passed, credential["id"]
        assert result.check("verification-method").passed
        suites[decoded["proof"]["cryptosuite"]] += 1
    assert suites["eddsa-rdfc-2022"] > 0
    assert suites["eddsa-jcs-2022"] > 0


def test_demo_credentials_fit_version_13(demo_credentials):
    versions = {qr_version_for(encode_credential(c)) for c in demo_credentials}
    assert max(versions) <= 13


def test_payload_uses_qr_alphanumeric_characters(demo_credentials):
    alphabet = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    payload = encode_credential(demo_credentials[0])
    assert payload.startswith(PREFIX)
    assert set(payload) <= alphabet


def test_accented_names_survive(demo_credentials):
    names = {c["credentialSubject"]["name"] for c in demo_credentials}
    accented = [name for name in names if not name.isascii()]
    assert accented
    for credential in demo_credentials:
        if credential["credentialSubject"]["name"] in accented:
            decoded = decode_credential(encode_credential(credential))
            assert (
                decoded["credentialSubject"]["name"].encode()
                == credential["credentialSubject"]["name"].encode()
            )


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-31T09:00:00.5Z",  # fractional seconds stay text
        "2026-03-31T09:00:00+01:00",  # offsets stay text
        "2026-02-30",  # not a calendar date
        "urn:uuid:0F8FAD5B-D9CB-469F-A165-70867728950E",  # upper case
        "did:key:z6Mk#other",
        "z" + "1" * 20,  # leading zero bytes in base58
        "https://staff-passport.example/",
        "",
        "P3Y",
        -(2**70),
        2**70,
        0.1,
        None,
        False,
    ],
)
def test_edge_values_round_trip(value):
    document = {"id": "urn:x", "credentialSubject": {"value": value, "list": [value]}}
    assert decode_credential(encode_credential(document)) == document


def _payload(item) -> str:
    return PREFIX + base45.b45encode(zlib.compress(cbor2.dumps(item))).decode()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SP2:ABC", "version '2' is not supported"),
        ("HC1:ABC", "does not start with 'SP1:'"),
        ("SP1:abc", "not valid base45"),
        ("SP1:" + base45.b45encode(b"not zlib").decode(), "not a valid zlib stream"),
        (
            "SP1:" + base45.b45encode(zlib.compress(b"\xff")).decode(),
            "CBOR is invalid",
        ),
        (
            "SP1:" + base45.b45encode(zlib.compress(cbor2.dumps([1]))).decode(),
            "not a CBOR map",
        ),
        ("SP1:" + "A" * MAX_TEXT_LENGTH, "characters"),
    ],
)
def test_hostile_text_rejected(text, message):
    with pytest.raises(QrPayloadInvalid, match=message):
        decode_credential(text)


def test_zlib_bomb_rejected():
    bomb = zlib.compress(b"\x00" * (10 * MAX_CBOR_LENGTH), 9)
    text = PREFIX + base45.b45encode(bomb).decode()
    assert len(text) < MAX_TEXT_LENGTH
    with pytest.raises(QrPayloadInvalid, match="expands to more than"):
        decode_credential(text)


def test_deep_nesting_rejected():
    item: object = 1
    for _ in range(MAX_DEPTH + 5):
        item = {0: item}
    with pytest.raises(QrPayloadInvalid):
        decode_credential(_payload(item))


def test_deep_nesting_not_encoded():
    document: dict = {}
    inner = document
    for _ in range(MAX_DEPTH + 1):
        inner["a"] = {}
        inner = inner["a"]
    with pytest.raises(Exception, match="deeper than"):
        encode_credential(document)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({len(KEY_TABLE): 1}, "key code"),
        ({1: len(VALUE_TABLE)}, "value code"),
        ({1: cbor2.CBORTag(TAG_PREFIXED, [len(PREFIX_TABLE), "x"])}, "prefix code"),
        ({1: cbor2.CBORTag(59999, 1)}, "tag 59999"),
        ({1: cbor2.CBORTag(TAG_DID_KEY, "not bytes")}, "tag 60001"),
        ({1: cbor2.CBORTag(28, {0: cbor2.CBORTag(29, 0)})}, "tag"),
        ({1: b"raw bytes"}, "bytes"),
        ({1.5: 1}, "neither a key code nor a text"),
        ({1: cbor2.CBORTag(1, 2**62)}, "outside years"),
        ({1: cbor2.CBORTag(100, -(10**9))}, "outside years"),
    ],
)
def test_unknown_codes_and_tags_rejected(item, message):
    with pytest.raises(QrPayloadInvalid, match=message):
        decode_credential(_payload(item))


def test_trailing_bytes_rejected():
    data = zlib.compress(cbor2.dumps({1: "urn:x"})) + b"junk"
    with pytest.raises(QrPayloadInvalid, match="after its zlib stream"):
        decode_credential(PREFIX + base45.b45encode(data).decode())


def test_non_string_input_rejected():
    with pytest.raises(TypeError):
        decode_credential(b"SP1:")


def test_oversized_credential_not_encoded():
    document = {
        "id": "urn:x",
        "name": "".join(chr(0x4E00 + i % 5000) for i in range(6000)),
    }
    with pytest.raises(QrPayloadTooLarge):
        encode_credential(document)


WEB_ISSUER = "did:web:passport.essex-partnership.example%3A8443:orgs:chelmer-valley"
STATUS_LISTS = (
    "https://passport.essex-partnership.example:8443/orgs/chelmer-valley/status"
)


def _with_status(credential: dict, index: int) -> dict:
    """Return ``credential`` reissued by a did:web issuer with status entries."""
    signer = Ed25519KeyPair.from_seed(
        ISSUER.seed_bytes(), controller=WEB_ISSUER, id=f"{WEB_ISSUER}#key-2"
    )
    unsigned = {key: value for key, value in credential.items() if key != "proof"}
    unsigned["issuer"] = {"id": WEB_ISSUER, "type": ["Profile"]}
    unsigned["credentialStatus"] = [
        {
            "id": f"{STATUS_LISTS}/{purpose}/3#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": str(index),
            "statusListCredential": f"{STATUS_LISTS}/{purpose}/3",
        }
        for purpose in ("revocation", "suspension")
    ]
    return add_proof(unsigned, signer=signer, created="2026-03-31T09:00:00Z")


def test_status_credentials_fit_version_13(demo_credentials):
    # Every fifth credential is enough to cover the names and subjects.
    credentials = [
        _with_status(credential, 131_071 - number)
        for number, credential in enumerate(demo_credentials[::5])
    ]
    for credential in credentials:
        payload = encode_credential(credential)
        assert decode_credential(payload) == credential
        assert qr_version_for(payload) <= 13, len(payload)


def test_status_entry_tag_used(demo_credentials):
    credential = _with_status(demo_credentials[0], 94567)
    item = cbor2.loads(credential_cbor(credential))
    entries = item[KEY_TABLE.index("credentialStatus")]
    assert [entry.tag for entry in entries] == [TAG_STATUS_ENTRY, TAG_STATUS_ENTRY]
    purpose, index, status_list, has_id = entries[0].value
    assert index == 94567
    assert has_id is True
    assert status_list.tag == TAG_ISSUER_RELATIVE
    assert status_list.value == (0, "status/revocation/3")


@pytest.mark.parametrize(
    "entry",
    [
        # Each keeps its exact text through the generic encoding.
        {
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "007",
            "statusListCredential": "https://a.example/1",
        },
        {
            "id": "https://a.example/1#8",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "7",
            "statusListCredential": "https://a.example/1",
        },
        {
            "type": "BitstringStatusListEntry",
            "statusPurpose": "message",
            "statusListIndex": "7",
            "statusListCredential": "https://a.example/1",
            "statusSize": 2,
        },
        {
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": 7,
            "statusListCredential": "https://a.example/1",
        },
        {
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "7",
            "statusListCredential": "https://a.example/1",
        },
    ],
)
def test_status_entry_variants_round_trip(entry):
    document = {"id": "urn:x", "credentialStatus": entry}
    assert decode_credential(encode_credential(document)) == document


@pytest.mark.parametrize(
    ("issuer", "text", "tagged"),
    [
        ("did:web:a.example", "https://a.example/x", True),
        ("did:web:a.example%3A8443:orgs:b", "http://a.example:8443/orgs/b/s", True),
        ("did:web:a.example:orgs:b", "https://a.example/orgs/c/s", False),
        ("did:web:a.example", "https://a.example.evil/x", False),
        (
            "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "https://x/",
            False,
        ),
    ],
)
def test_issuer_relative_addresses(issuer, text, tagged):
    document = {"issuer": issuer, "url": text}
    item = cbor2.loads(credential_cbor(document))
    url = item["url"]
    assert (isinstance(url, cbor2.CBORTag) and url.tag == TAG_ISSUER_RELATIVE) is tagged
    assert decode_credential(encode_credential(document)) == document


def test_issuer_not_relative_to_itself():
    document = {"issuer": {"id": "did:web:a.example", "url": "https://a.example/x"}}
    item = cbor2.loads(credential_cbor(document))
    assert item[KEY_TABLE.index("issuer")]["url"].tag == TAG_PREFIXED
    assert decode_credential(encode_credential(document)) == document


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({1: cbor2.CBORTag(TAG_ISSUER_RELATIVE, [0, "x"])}, "not a did:web DID"),
        (
            {4: "did:web:a.example", 1: cbor2.CBORTag(TAG_ISSUER_RELATIVE, [9, "x"])},
            "scheme code",
        ),
        ({1: cbor2.CBORTag(TAG_STATUS_ENTRY, [72, -1, "u", True])}, "status entry"),
        ({1: cbor2.CBORTag(TAG_STATUS_ENTRY, [72, 1, [1], True])}, "CBOR item"),
        ({1: cbor2.CBORTag(TAG_STATUS_ENTRY, [72, 1])}, "status entry"),
    ],
)
def test_bad_new_tags_rejected(item, message):
    with pytest.raises(QrPayloadInvalid, match=message):
        decode_credential(_payload(item))


def test_preset_dictionary_pinned():
    data = preset_dictionary()
    assert hashlib.sha256(data).hexdigest() == DICTIONARY_SHA256


def test_payload_without_dictionary_decodes():
    document = {"id": "urn:x", "name": "Fire Safety"}
    data = zlib.compress(credential_cbor(document), 9)
    assert decode_credential(PREFIX + base45.b45encode(data).decode()) == document
