"""The Bitstring Status List codec: bit order, encoding and bad lists."""

import base64
import gzip
import zlib

import pytest

from credentials.status_list import (
    MAX_LIST_BYTES,
    MIN_ENTRIES,
    Bitstring,
    MutableBitstring,
    StatusListError,
    decode_list,
    encode_list,
    parse_index,
    read_status,
)


def encoded(data: bytes, *, prefix: str = "u", padding: bool = False) -> str:
    text = base64.urlsafe_b64encode(gzip.compress(data)).decode()
    return prefix + (text if padding else text.rstrip("="))


def test_index_9_is_second_bit_of_byte_1():
    bits = MutableBitstring()
    bits.set(9, 1)
    data = bits.freeze().data
    assert data[1] == 0b0100_0000
    assert data[0] == 0
    assert sum(data) == 0b0100_0000


def test_first_byte_c0_reads_0_and_1_set():
    data = bytes([0xC0]) + bytes(MIN_ENTRIES // 8 - 1)
    bitstring = decode_list(encoded(data))
    assert read_status(bitstring, 0) == 1
    assert read_status(bitstring, 1) == 1
    for index in (6, 7, 8):
        assert read_status(bitstring, index) == 0


def test_round_trip():
    bits = MutableBitstring()
    for index in (0, 7, 8, 94567, MIN_ENTRIES - 1):
        bits.set(index, 1)
    text = encode_list(bits)
    assert text.startswith("u")
    assert "=" not in text
    decoded = decode_list(text)
    assert decoded.entries == MIN_ENTRIES
    assert read_status(decoded, 94567) == 1
    assert read_status(decoded, 94566) == 0
    assert read_status(decoded, MIN_ENTRIES - 1) == 1


def test_encoding_is_stable():
    assert encode_list(MutableBitstring()) == encode_list(MutableBitstring())


def test_reinstate_clears_bit():
    bits = MutableBitstring()
    bits.set(42, 1)
    bits.set(42, 0)
    assert bits.get(42) == 0
    assert sum(bits.freeze().data) == 0


def test_two_bit_entries():
    bits = MutableBitstring(status_size=2)
    bits.set(1, 0b10)
    assert bits.freeze().data[0] == 0b0010_0000
    assert read_status(bits.freeze(), 1) == 2


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (encoded(bytes(MIN_ENTRIES // 8), prefix=""), "does not start with 'u'"),
        (encoded(bytes(MIN_ENTRIES // 8), prefix="z"), "does not start with 'u'"),
        (encoded(bytes(MIN_ENTRIES // 8), padding=True) + "=", "padding"),
        ("u" + base64.urlsafe_b64encode(bytes(100)).decode().rstrip("="), "GZIP"),
        (
            "u"
            + base64.urlsafe_b64encode(zlib.compress(bytes(MIN_ENTRIES // 8)))
            .decode()
            .rstrip("="),
            "GZIP",
        ),
        (encoded(bytes(100)), "at least"),
        ("u!!!!", "base64url"),
        (12345, "not a string"),
        (encoded(bytes(MIN_ENTRIES // 8))[:-10], "truncated"),
    ],
)
def test_malformed_list_rejected(value, reason):
    with pytest.raises(StatusListError) as raised:
        decode_list(value)
    assert reason in str(raised.value)


def test_gzip_bomb_rejected():
    bomb = encoded(bytes(20 * 1024 * 1024))
    with pytest.raises(StatusListError, match="bomb"):
        decode_list(bomb)


@pytest.mark.parametrize("value", [-1, "-1", "+1", "01", "1.0", "0x10", "", " 1", 5])
def test_bad_index_rejected(value):
    with pytest.raises(StatusListError) as raised:
        parse_index(value)
    assert repr(value) in str(raised.value)


def test_index_past_end_rejected():
    bitstring = Bitstring(bytes(MIN_ENTRIES // 8))
    with pytest.raises(StatusListError, match="outside"):
        read_status(bitstring, MIN_ENTRIES)


def test_small_list_refused():
    with pytest.raises(StatusListError, match="minimum"):
        MutableBitstring(1000)


LIST_URL = "https://passport.example.org/orgs/acme/status/revocation/1"


def test_status_entry_shape():
    from credentials.status_list import build_status_entry

    entry = build_status_entry(LIST_URL, "revocation", 94567)

    assert entry == {
        "id": f"{LIST_URL}#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": LIST_URL,
    }


def test_list_credential_shape():
    from credentials.status_list import (
        MutableBitstring,
        build_list_credential,
        decode_list,
        read_status,
    )

    bits = MutableBitstring()
    bits.set(17, 1)
    credential = build_list_credential(
        list_url=LIST_URL,
        issuer="did:web:passport.example.org:orgs:acme",
        purpose="revocation",
        bitstring=bits,
        valid_from="2026-04-01T00:00:00Z",
        ttl_ms=300_000,
    )

    subject = credential["credentialSubject"]
    assert credential["type"] == [
        "VerifiableCredential",
        "BitstringStatusListCredential",
    ]
    assert credential["id"] == LIST_URL
    assert subject["id"] == f"{LIST_URL}#list"
    assert subject["type"] == "BitstringStatusList"
    assert subject["ttl"] == 300_000
    assert read_status(decode_list(subject["encodedList"]), 17) == 1
    assert read_status(decode_list(subject["encodedList"]), 16) == 0


@pytest.mark.parametrize("digits", [10, 5000])
def test_index_longer_than_any_list_rejected(digits):
    with pytest.raises(StatusListError, match="no status list has"):
        parse_index("9" * digits)


def test_largest_possible_index_parsed():
    largest = MAX_LIST_BYTES * 8 - 1

    assert parse_index(str(largest)) == largest
