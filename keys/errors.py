"""Exceptions raised by the key package.

::

    KeyPackageError
    ├── InvalidMultibase     text is not base58btc multibase
    ├── InvalidKey           wrong multicodec header, length or key type
    ├── InvalidDid           a DID that is malformed or not did:key Ed25519
    └── KeyStoreError        the encrypted key store failed
        ├── KeyNotFound
        └── WrongPassphrase
"""


class KeyPackageError(Exception):
    """Base class for every error raised by :mod:`keys`."""


class InvalidMultibase(KeyPackageError):
    """A multibase string that is not valid base58btc (``z`` prefix)."""


class InvalidKey(KeyPackageError):
    """Key material with a wrong multicodec header, length or type."""


class InvalidDid(KeyPackageError):
    """A DID or DID URL that cannot be resolved locally."""


class KeyStoreError(KeyPackageError):
    """A failure of the encrypted key store."""


class KeyNotFound(KeyStoreError):
    """No stored key has the requested id."""


class WrongPassphrase(KeyStoreError):
    """The key store passphrase does not decrypt a stored key."""
