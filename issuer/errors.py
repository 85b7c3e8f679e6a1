"""Exceptions raised by the issuer's service functions.

::

    IssuerError                  a request the issuer cannot carry out as given
    ├── OrganisationNotFound     no organisation has the slug
    ├── CredentialNotFound       no issued credential has the id
    ├── StatusChangeRejected     a revoke, suspend or reinstate that cannot apply
    ├── ClaimCodeInvalid         a claim code that is unknown, used or expired
    ├── CredentialRejected       a credential sent to be issued that is invalid
    ├── CredentialConflict       a credential id that was issued before
    └── IssuerForbidden          an issuer the caller may not issue as

Each message names the value and what to do instead, so the CLI, the admin
pages and the API show it as it is.
"""


class IssuerError(Exception):
    """A request the issuer cannot carry out as given."""


class OrganisationNotFound(IssuerError):
    """No organisation has the requested slug."""


class CredentialNotFound(IssuerError):
    """No credential issued by the organisation has the requested id."""


class StatusChangeRejected(IssuerError):
    """A status change that does not apply to the credential's current status."""


class ClaimCodeInvalid(IssuerError):
    """A claim code that is unknown, already used or expired."""


class CredentialRejected(IssuerError):
    """A credential sent to be issued that cannot be signed as it is."""


class CredentialConflict(IssuerError):
    """A credential whose id this platform has issued before."""


class IssuerForbidden(IssuerError):
    """An issuer that is not one of the calling organisation's DIDs."""
