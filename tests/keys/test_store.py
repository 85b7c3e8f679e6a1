import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, SQLModel

from keys.errors import KeyNotFound, WrongPassphrase
from keys.multikey import Ed25519KeyPair
from keys.store import KeyStore, StoredKey


@pytest.fixture
def session(tmp_path):
    # A real SQLite file holding only the key table, so this test needs no
    # other package; the platform's schema comes from the migrations.
    engine = create_engine(f"sqlite:///{tmp_path / 'keys.db'}")
    SQLModel.metadata.create_all(engine, tables=[StoredKey.__table__])
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_stored_key_round_trip(session):
    pair = Ed25519KeyPair.generate()
    KeyStore("correct horse").add(session, pair)
    session.commit()
    loaded = KeyStore("correct horse").load(session, pair.verification_method_id)
    assert loaded.public_key_multibase == pair.public_key_multibase


def test_seed_not_stored_in_clear(session):
    pair = Ed25519KeyPair.generate()
    row = KeyStore("correct horse").add(session, pair)
    assert pair.seed_bytes() not in row.sealed_seed


def test_wrong_passphrase_rejected(session):
    pair = Ed25519KeyPair.generate()
    KeyStore("correct horse").add(session, pair)
    session.commit()
    with pytest.raises(WrongPassphrase, match="PASSPORT_KEY_PASSPHRASE"):
        KeyStore("battery staple").load(session, pair.verification_method_id)


def test_sealed_seed_bound_to_row_id(session):
    store = KeyStore("correct horse")
    first = store.seal(Ed25519KeyPair.generate())
    second = store.seal(Ed25519KeyPair.generate())
    second.sealed_seed = first.sealed_seed
    with pytest.raises(WrongPassphrase):
        store.unseal(second)


def test_missing_key_rejected(session):
    with pytest.raises(KeyNotFound, match="did:key:nothing"):
        KeyStore("p").load(session, "did:key:nothing")


def test_repr_hides_passphrase():
    assert "correct horse" not in repr(KeyStore("correct horse"))
