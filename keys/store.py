"""The key store: Ed25519 private keys encrypted at rest in the database.

Each secret seed is sealed with AES-256-GCM under a key derived from the
store passphrase with scrypt (N=2**15, r=8, p=1) and a random 16-byte salt per
key. The verification method id is the GCM associated data, so a sealed
seed copied onto another row does not decrypt. Decrypted key pairs are
cached in the process; seeds and passphrases never appear in logs, reprs or
return values of any API but :meth:`KeyStore.load`.
"""

import logging
import secrets
from datetime import UTC, datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from sqlalchemy import LargeBinary
from sqlmodel import Column, Field, Session, SQLModel, select

from keys.errors import KeyNotFound, KeyStoreError, WrongPassphrase
from keys.multikey import Ed25519KeyPair

logger = logging.getLogger(__name__)

SEALING_SCHEME = "scrypt-n32768-r8-p1+aes-256-gcm"
_SALT_LENGTH = 16
_NONCE_LENGTH = 12


class StoredKey(SQLModel, table=True):
    """A key pair with its seed sealed under the store passphrase."""

    __tablename__ = "stored_key"

    id: str = Field(primary_key=True, description="verification method id")
    controller: str = Field(index=True)
    public_key_multibase: str
    sealed_seed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sealing_scheme: str = Field(default=SEALING_SCHEME)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


def _derive(passphrase: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=2**15, r=8, p=1).derive(
        passphrase.encode("utf-8")
    )


class KeyStore:
    """Seals and unseals key pairs; the passphrase stays inside this object."""

    def __init__(self, passphrase: str) -> None:
        if not passphrase:
            raise KeyStoreError(
                "The key store passphrase is empty; set PASSPORT_KEY_PASSPHRASE."
            )
        self._passphrase = passphrase
        self._cache: dict[str, Ed25519KeyPair] = {}

    def __repr__(self) -> str:
        return "KeyStore(<passphrase hidden>)"

    def seal(self, key_pair: Ed25519KeyPair) -> StoredKey:
        """Return a new row holding ``key_pair`` with its seed encrypted."""
        salt = secrets.token_bytes(_SALT_LENGTH)
        nonce = secrets.token_bytes(_NONCE_LENGTH)
        aead = AESGCM(_derive(self._passphrase, salt))
        sealed = aead.encrypt(
            nonce, key_pair.seed_bytes(), key_pair.verification_method_id.encode()
        )
        return StoredKey(
            id=key_pair.verification_method_id,
            controller=key_pair.controller,
            public_key_multibase=key_pair.public_key_multibase,
            sealed_seed=salt + nonce + sealed,
        )

    def add(self, session: Session, key_pair: Ed25519KeyPair) -> StoredKey:
        """Seal ``key_pair`` into the session (the caller commits)."""
        row = self.seal(key_pair)
        session.add(row)
        self._cache[row.id] = key_pair
        logger.debug("sealed key %s", row.id)
        return row

    def load(self, session: Session, key_id: str) -> Ed25519KeyPair:
        """Return the key pair stored under verification method ``key_id``.

        :raises KeyNotFound: if no row has that id.
        :raises WrongPassphrase: if the passphrase does not unseal it.
        """
        cached = self._cache.get(key_id)
        if cached is not None:
            return cached
        row = session.get(StoredKey, key_id)
        if row is None:
            raise KeyNotFound(f"No stored key has id {key_id!r}.")
        return self.unseal(row)

    def unseal(self, row: StoredKey) -> Ed25519KeyPair:
        """Decrypt a stored row.

        :raises WrongPassphrase: if the passphrase or the row id does not match.
        """
        if row.sealing_scheme != SEALING_SCHEME:
            raise KeyStoreError(
                f"Stored key {row.id!r} uses sealing scheme "
                f"{row.sealing_scheme!r}; this version reads only "
                f"{SEALING_SCHEME!r}."
            )
        blob = row.sealed_seed
        salt = blob[:_SALT_LENGTH]
        nonce = blob[_SALT_LENGTH : _SALT_LENGTH + _NONCE_LENGTH]
        sealed = blob[_SALT_LENGTH + _NONCE_LENGTH :]
        try:
            seed = AESGCM(_derive(self._passphrase, salt)).decrypt(
                nonce, sealed, row.id.encode()
            )
        except InvalidTag as error:
            raise WrongPassphrase(
                f"Stored key {row.id!r} does not decrypt with the configured "
                "passphrase; check PASSPORT_KEY_PASSPHRASE."
            ) from error
        pair = Ed25519KeyPair.from_seed(seed, controller=row.controller, id=row.id)
        if pair.public_key_multibase != row.public_key_multibase:
            raise KeyStoreError(
                f"Stored key {row.id!r} decrypts to a different public key than "
                "its row records; the row is corrupt."
            )
        self._cache[row.id] = pair
        return pair

    def public_keys(self, session: Session, controller: str) -> list[StoredKey]:
        """Return the rows (public data only is meaningful) of ``controller``."""
        statement = select(StoredKey).where(StoredKey.controller == controller)
        return list(session.exec(statement))
