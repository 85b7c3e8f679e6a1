"""Ed25519 key pairs in the W3C Multikey format.

A key file is a Multikey JSON object with ``type`` ``"Multikey"``,
``controller`` (the DID), ``id`` (the verification method id),
``publicKeyMultibase`` and, for a secret key file only,
``secretKeyMultibase``.
"""

import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from keys.errors import InvalidKey
from keys.multibase import (
    ED25519_KEY_LENGTH,
    decode_public_key_multibase,
    decode_secret_key_multibase,
    encode_public_key_multibase,
    encode_secret_key_multibase,
)

MULTIKEY_TYPE = "Multikey"


@dataclass(frozen=True)
class Ed25519PublicMultikey:
    """An Ed25519 public key with the verification method that names it."""

    public_key_multibase: str
    controller: str
    id: str
    _public_key: Ed25519PublicKey = field(repr=False, compare=False)

    @classmethod
    def from_multibase(
        cls, public_key_multibase: str, *, controller: str, id: str
    ) -> "Ed25519PublicMultikey":
        """Build a public key from a ``z6Mk…`` value.

        :raises InvalidKey: if the value is not an Ed25519 Multikey.
        """
        raw = decode_public_key_multibase(public_key_multibase)
        return cls(
            public_key_multibase=public_key_multibase,
            controller=controller,
            id=id,
            _public_key=Ed25519PublicKey.from_public_bytes(raw),
        )

    def verify(self, signature: bytes, data: bytes) -> bool:
        """Return whether ``signature`` is a valid Ed25519 signature of ``data``."""
        try:
            self._public_key.verify(signature, data)
        except InvalidSignature:
            return False
        return True


class Ed25519KeyPair:
    """An Ed25519 signing key with its did:key identity.

    The verification method id defaults to the did:key form
    ``did:key:<fingerprint>#<fingerprint>``; organisations that publish
    ``did:web`` documents pass their own ``controller`` and ``id``.
    """

    def __init__(
        self,
        private_key: Ed25519PrivateKey,
        *,
        controller: str | None = None,
        id: str | None = None,
    ) -> None:
        self._private_key = private_key
        raw_public = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.public_key_multibase = encode_public_key_multibase(raw_public)
        self.did = "did:key:" + self.public_key_multibase
        self.controller = controller or self.did
        self.verification_method_id = id or (f"{self.did}#{self.public_key_multibase}")

    def __repr__(self) -> str:
        # The secret never appears in a repr, so it cannot reach a log line.
        return f"Ed25519KeyPair(id={self.verification_method_id!r})"

    @classmethod
    def generate(cls) -> "Ed25519KeyPair":
        """Create a key pair from 32 random bytes of the OS generator."""
        return cls.from_seed(secrets.token_bytes(ED25519_KEY_LENGTH))

    @classmethod
    def from_seed(
        cls, seed: bytes, *, controller: str | None = None, id: str | None = None
    ) -> "Ed25519KeyPair":
        """Create the key pair that a 32-byte seed determines.

        :raises InvalidKey: if ``seed`` is not 32 bytes.
        """
        if len(seed) != ED25519_KEY_LENGTH:
            raise InvalidKey(
                f"An Ed25519 seed has {ED25519_KEY_LENGTH} bytes, not {len(seed)}."
            )
        private_key = Ed25519PrivateKey.from_private_bytes(seed)
        return cls(private_key, controller=controller, id=id)

    @classmethod
    def from_multikey(cls, document: dict[str, Any]) -> "Ed25519KeyPair":
        """Load a secret Multikey JSON object.

        ``publicKeyMultibase``, when present, must match the secret key.

        :raises InvalidKey: if a field is missing or does not match.
        """
        if not isinstance(document, dict):
            raise InvalidKey("A Multikey key file must hold a JSON object.")
        if document.get("type") != MULTIKEY_TYPE:
            raise InvalidKey(
                f"Key type {document.get('type')!r} is not supported; "
                f"expected {MULTIKEY_TYPE!r}."
            )
        secret = document.get("secretKeyMultibase")
        if not isinstance(secret, str):
            raise InvalidKey(
                "The key file has no 'secretKeyMultibase'; a secret key is "
                "needed to sign."
            )
        controller = document.get("controller")
        key_id = document.get("id")
        pair = cls.from_seed(
            decode_secret_key_multibase(secret),
            controller=controller if isinstance(controller, str) else None,
            id=key_id if isinstance(key_id, str) else None,
        )
        public = document.get("publicKeyMultibase")
        if public is not None and public != pair.public_key_multibase:
            raise InvalidKey(
                f"publicKeyMultibase {public!r} does not belong to the secret "
                f"key, whose public key is {pair.public_key_multibase!r}."
            )
        return pair

    @property
    def secret_key_multibase(self) -> str:
        """The ``z3u2…`` encoding of the seed; handle it as a secret."""
        return encode_secret_key_multibase(self.seed_bytes())

    def seed_bytes(self) -> bytes:
        """Return the 32-byte seed; handle it as a secret."""
        return self._private_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )

    @property
    def private_key(self) -> Ed25519PrivateKey:
        """The ``cryptography`` private key object."""
        return self._private_key

    def public_multikey(self) -> Ed25519PublicMultikey:
        """Return the public half as a verification method."""
        return Ed25519PublicMultikey.from_multibase(
            self.public_key_multibase,
            controller=self.controller,
            id=self.verification_method_id,
        )

    def sign(self, data: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of ``data``."""
        return self._private_key.sign(data)

    def to_multikey(self, include_secret: bool = False) -> dict[str, Any]:
        """Return the Multikey JSON object, with the secret only on request."""
        document: dict[str, Any] = {
            "type": MULTIKEY_TYPE,
            "controller": self.controller,
            "id": self.verification_method_id,
            "publicKeyMultibase": self.public_key_multibase,
        }
        if include_secret:
            document["secretKeyMultibase"] = self.secret_key_multibase
        return document
