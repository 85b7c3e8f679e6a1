import base64
import gzip
import zlib

import pytest

from credentials.errors import StatusListInvalid
from credentials.status_list import (
    MAX_LIST_BYTES,
    MIN_ENTRIES,
    build_list_credential,
    build_status_entry,
    decode_list,
    encode_list,
    get_bit,
    new_bitstring,
    parse_status_entries,
    parse_status_index,
    read_list_credential,
    set_bit,
)

LIST_URL = "https://passport.example.org/orgs/acme/status/revocation/1"


def encoded_from(raw: bytes) -> str:
    compressed = gzip.compress(raw, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode().rstrip("=")


def test_new_list_is_clear_and_minimum_size():
    bits = new_bitstring()

    assert len(bits) * 8 == MIN_ENTRIES == 131_072
    assert not any(bits)


def test_new_list_rejects_short_length():
    with pytest.raises(ValueError, match="at least 131072"):
        new_bitstring(1024)


def test_index_9_is_second_bit_of_byte_1():
    bits = new_bitstring()

    set_bit(bits, 9, True)

    assert bits[1] == 0b0100_0000
    assert bits[0] == 0
    assert sum(bits) == 0b0100_0000


def test_first_byte_c0_reads_0_and_1_set():
    bits = bytearray(MIN_ENTRIES // 8)
    bits[0] = 0xC0
    decoded = decode_list(encoded_from(bytes(bits)))

    assert get_bit(decoded, 0)
    assert get_bit(decoded, 1)
    assert not get_bit(decoded, 6)
    assert not get_bit(decoded, 7)
    assert not get_bit(decoded, 8)


def test_index_0_is_msb_of_byte_0():
    bits = new_bitstring()

    set_bit(bits, 0, True)

    assert bits[0] == 0x80


def test_last_index_is_lsb_of_last_byte():
    bits = new_bitstring()

    set_bit(bits, MIN_ENTRIES - 1, True)

    assert bits[-1] == 0x01


def test_clear_bit_leaves_neighbours():
    bits = new_bitstring()
    bits[1] = 0xFF

    set_bit(bits, 9, False)

    assert bits[1] == 0b1011_1111


def test_encode_decode_round_trip():
    bits = new_bitstring()
    for index in (0, 9, 4242, MIN_ENTRIES - 1):
        set_bit(bits, index, True)

    encoded = encode_list(bits)

    assert encoded.startswith("u")
    assert "=" not in encoded
    assert decode_list(encoded) == bytes(bits)


def test_encode_is_deterministic():
    assert encode_list(new_bitstring()) == encode_list(new_bitstring())


def test_empty_list_encoding_is_short():
    # A clear 16 KiB list compresses to a few dozen bytes of text.
    assert len(encode_list(new_bitstring())) < 100


@pytest.mark.parametrize(
    ("encoded", "reason"),
    [
        (None, "not a string"),
        (12, "not a string"),
        ("", "does not start with 'u'"),
        (
            "H4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",
            "does not start with 'u'",
        ),
        ("zH4sIAAAAAAAAA", "does not start with 'u'"),
        (
            "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA==",
            "padding",
        ),
        ("uH4sI+/AAAAAA", "not base64url"),
        ("uH4s I", "not base64url"),
        ("uA", "not base64url"),
        (
            "u"
            + base64.urlsafe_b64encode(b"plain bytes, no gzip").decode().rstrip("="),
            "not GZIP",
        ),
    ],
)
def test_decode_rejects_malformed(encoded, reason):
    with pytest.raises(StatusListInvalid, match=reason):
        decode_list(encoded)


def test_decode_rejects_raw_zlib():
    compressed = zlib.compress(bytes(MIN_ENTRIES // 8))
    encoded = "u" + base64.urlsafe_b64encode(compressed).decode().rstrip("=")

    with pytest.raises(StatusListInvalid, match="not GZIP"):
        decode_list(encoded)


def test_decode_rejects_corrupt_gzip():
    compressed = bytearray(gzip.compress(bytes(MIN_ENTRIES // 8), mtime=0))
    compressed[12] ^= 0xFF
    encoded = "u" + base64.urlsafe_b64encode(bytes(compressed)).decode().rstrip("=")

    with pytest.raises(StatusListInvalid, match="GZIP"):
        decode_list(encoded)


def test_decode_rejects_truncated_gzip():
    compressed = gzip.compress(bytes(MIN_ENTRIES // 8), mtime=0)[:-6]
    encoded = "u" + base64.urlsafe_b64encode(compressed).decode().rstrip("=")

    with pytest.raises(StatusListInvalid, match="truncated"):
        decode_list(encoded)


def test_decode_rejects_trailing_data():
    compressed = gzip.compress(bytes(MIN_ENTRIES // 8), mtime=0) + b"extra"
    encoded = "u" + base64.urlsafe_b64encode(compressed).decode().rstrip("=")

    with pytest.raises(StatusListInvalid, match="after the end"):
        decode_list(encoded)


def test_decode_rejects_short_list():
    with pytest.raises(StatusListInvalid, match="has 8192 entries"):
        decode_list(encoded_from(bytes(1024)))


def test_decode_rejects_gzip_bomb():
    with pytest.raises(StatusListInvalid, match="too large"):
        decode_list(encoded_from(bytes(MAX_LIST_BYTES + 1)))


@pytest.mark.parametrize("index", [-1, MIN_ENTRIES, MIN_ENTRIES + 7, 10**9])
def test_get_bit_rejects_index_out_of_range(index):
    with pytest.raises(StatusListInvalid, match="negative|past the end"):
        get_bit(new_bitstring(), index)


@pytest.mark.parametrize(
    ("value", "index"), [("0", 0), ("9", 9), ("94567", 94567), ("007", 7)]
)
def test_parse_index_accepts_decimal(value, index):
    assert parse_status_index(value) == index


@pytest.mark.parametrize(
    "value",
    ["-1", "+1", " 1", "1 ", "1.0", "0x10", "1e3", "", "١٢", 12, None, "9" * 40],
)
def test_parse_index_rejects(value):
    with pytest.raises(StatusListInvalid, match="statusListIndex"):
        parse_status_index(value)


def test_status_entry_shape():
    entry = build_status_entry(LIST_URL, "revocation", 94567)

    assert entry == {
        "id": f"{LIST_URL}#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": LIST_URL,
    }


def test_parse_entries_both_purposes():
    credential = {
        "credentialStatus": [
            build_status_entry(LIST_URL, "revocation", 5),
            build_status_entry(
                LIST_URL.replace("revocation", "suspension"), "suspension", 6
            ),
            {"type": "SomeOtherStatus"},
        ]
    }

    entries = parse_status_entries(credential)

    assert [(e.purpose, e.index) for e in entries] == [
        ("revocation", 5),
        ("suspension", 6),
    ]


def test_parse_entries_single_object():
    credential = {"credentialStatus": build_status_entry(LIST_URL, "revocation", 5)}

    assert len(parse_status_entries(credential)) == 1


def test_parse_entries_rejects_missing_url():
    entry = build_status_entry(LIST_URL, "revocation", 5)
    del entry["statusListCredential"]

    with pytest.raises(StatusListInvalid, match="statusListCredential"):
        parse_status_entries({"credentialStatus": entry})


def test_parse_entries_rejects_numeric_index():
    entry = build_status_entry(LIST_URL, "revocation", 5)
    entry["statusListIndex"] = 5

    with pytest.raises(StatusListInvalid, match="is not a string"):
        parse_status_entries({"credentialStatus": entry})


def test_list_credential_round_trip():
    bits = new_bitstring()
    set_bit(bits, 17, True)
    credential = build_list_credential(
        list_url=LIST_URL,
        issuer="did:web:passport.example.org:orgs:acme",
        purpose="revocation",
        bits=bits,
        valid_from="2026-04-01T00:00:00Z",
        ttl_ms=300_000,
    )

    decoded, subject = read_list_credential(credential, "revocation")

    assert get_bit(decoded, 17)
    assert subject["id"] == f"{LIST_URL}#list"
    assert subject["ttl"] == 300_000
    assert credential["type"] == [
        "VerifiableCredential",
        "BitstringStatusListCredential",
    ]


def test_read_list_rejects_wrong_purpose():
    credential = build_list_credential(
        list_url=LIST_URL,
        issuer="did:web:x",
        purpose="suspension",
        bits=new_bitstring(),
        valid_from="2026-04-01T00:00:00Z",
    )

    with pytest.raises(StatusListInvalid, match="is for 'suspension'"):
        read_list_credential(credential, "revocation")


def test_read_list_rejects_wrong_type():
    with pytest.raises(StatusListInvalid, match="not 'BitstringStatusListCredential'"):
        read_list_credential({"type": ["VerifiableCredential"]}, "revocation")
