import base58
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from keys.errors import InvalidKey, InvalidMultibase
from keys.multibase import (
    decode_base58btc,
    decode_public_key_multibase,
    decode_secret_key_multibase,
    encode_base58btc,
    encode_public_key_multibase,
    encode_secret_key_multibase,
)
from keys.multikey import Ed25519KeyPair

# From tests/vectors/peer/issuer-key.json.
PEER_PUBLIC = "z6Mkq8qP8Yg87hsfL5FXwJ6DQTxJS3Di8v7zqdgJkr57fYaJ"
PEER_SECRET = "z3u2bfq538TcqvV7X3DFwt4uDBxKr62hk3t6ACXygeYkzyB3"


def test_base58btc_round_trip():
    data = bytes(range(40))
    assert decode_base58btc(encode_base58btc(data)) == data


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 4), st.binary(max_size=100))
def test_base58btc_decodes_as_base58_package(zeros: int, data: bytes) -> None:
    # A bare "z" is rejected: multibase text carries at least one digit.
    assume(zeros or data)
    text = "z" + base58.b58encode(bytes(zeros) + data).decode("ascii")
    assert decode_base58btc(text) == bytes(zeros) + data


def test_base58btc_keeps_leading_zero_bytes():
    assert decode_base58btc(encode_base58btc(b"\x00\x00\x01")) == b"\x00\x00\x01"


def test_seed_gives_peer_public_key():
    seed = decode_secret_key_multibase(PEER_SECRET)
    assert Ed25519KeyPair.from_seed(seed).public_key_multibase == PEER_PUBLIC


def test_public_and_secret_prefixes():
    pair = Ed25519KeyPair.generate()
    assert pair.public_key_multibase.startswith("z6Mk")
    assert pair.secret_key_multibase.startswith("z3u2")


def test_secret_round_trip():
    seed = bytes(range(32))
    assert decode_secret_key_multibase(encode_secret_key_multibase(seed)) == seed


@pytest.mark.parametrize(
    "text",
    ["", "z", "f6Mk", "6Mkq8qP8", "z0OIl", 6, None, "z" + "1" * 300],
)
def test_bad_multibase_rejected(text):
    with pytest.raises(InvalidMultibase):
        decode_public_key_multibase(text)


@pytest.mark.parametrize(
    ("header", "named"),
    [(b"\xe7\x01", "secp256k1"), (b"\x80\x24", "P-256"), (b"\x12\x34", "1234")],
)
def test_other_key_types_named(header, named):
    text = encode_base58btc(header + bytes(33))
    with pytest.raises(InvalidKey, match=named):
        decode_public_key_multibase(text)


@pytest.mark.parametrize("length", [31, 33])
def test_wrong_key_length_rejected(length):
    text = encode_base58btc(b"\xed\x01" + bytes(length))
    with pytest.raises(InvalidKey, match=f"holds {length} key bytes"):
        decode_public_key_multibase(text)


def test_secret_header_on_public_key_rejected():
    with pytest.raises(InvalidKey, match="8026"):
        decode_secret_key_multibase(PEER_PUBLIC)


@pytest.mark.parametrize("length", [31, 33])
def test_encode_wrong_length_rejected(length):
    with pytest.raises(InvalidKey):
        encode_public_key_multibase(bytes(length))


def test_lone_z_named_as_missing_digits():
    with pytest.raises(InvalidMultibase, match="no base58btc digits"):
        decode_base58btc("z")
