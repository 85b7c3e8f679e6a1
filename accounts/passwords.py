"""Password hashing with Argon2id (argon2-cffi defaults, RFC 9106 profile)."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """Return the Argon2id hash of ``password`` in PHC string format."""
    return _hasher.hash(password)


def check_password(password_hash: str, password: str) -> bool:
    """Return whether ``password`` matches ``password_hash``."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
