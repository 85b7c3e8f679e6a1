"""Exceptions raised by the verifier's services.

Verification failures are never raised: they are checks in a
:class:`~verifier.results.VerificationResult`. These exceptions are for
caller mistakes and for inputs the services cannot use at all.

::

    VerifierError
    ├── RegistryDocumentInvalid   a published registry that cannot be trusted
    ├── RegistryMemberInvalid     a member entry an administrator got wrong
    ├── FetchError                (verifier.fetch)
    │   ├── FetchRefused          a URL outside the fence: no request was made
    │   └── FetchFailed           the request failed, timed out or was too big
    ├── ProfileInvalid            a role requirement profile that cannot be saved
    └── ProfileNotFound
"""


class VerifierError(Exception):
    """Base class for every error the verifier's services raise."""


class RegistryDocumentInvalid(VerifierError):
    """A signed trust registry document that fails verification or parsing."""


class RegistryMemberInvalid(VerifierError):
    """A registry member entry with a missing or invalid field."""


class FetchError(VerifierError):
    """A document that could not be fetched through the fence."""


class FetchRefused(FetchError):
    """A URL the fence does not allow; no request was made for it."""


class FetchFailed(FetchError):
    """A request that was made but failed, timed out or returned too much."""


class ProfileInvalid(VerifierError):
    """A role requirement profile with an unknown subject or a bad field."""


class ProfileNotFound(VerifierError):
    """No role requirement profile has the requested slug."""
