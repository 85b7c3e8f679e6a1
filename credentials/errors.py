"""Exceptions raised by the credential core.

Caller mistakes and unusable input raise; verification failures of a
well-formed document are reported as check results by the verifier instead.

::

    CredentialError
    ├── MalformedDocument      not a JSON object of the expected shape
    │   └── InvalidDateTime    not an XSD dateTimeStamp with a time zone
    ├── ContextNotAllowed      a context URL that is not bundled
    ├── UndefinedTerm          safe mode: a term no context defines
    ├── UnsupportedCryptosuite
    ├── ProofError             a proof that cannot be created or checked
    └── QrPayloadInvalid       (credentials.qr_payload)
"""


class CredentialError(Exception):
    """Base class for every error raised by :mod:`credentials`."""


class MalformedDocument(CredentialError):
    """A document that is not shaped as the data model requires."""


class InvalidDateTime(MalformedDocument):
    """A date-time value that is not an XSD dateTimeStamp."""


class ContextNotAllowed(CredentialError):
    """A JSON-LD context or document URL that is not bundled.

    The URL is never fetched.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(
            f"JSON-LD context {url!r} is not one of the bundled contexts and is "
            "never fetched; use a bundled context or add the file to the "
            "bundle."
        )


class UndefinedTerm(CredentialError):
    """A property or type that no active JSON-LD context defines.

    In safe mode such a term is an error, because expansion would drop it
    and it would then sit outside the signature.
    """


class UnsupportedCryptosuite(CredentialError):
    """A Data Integrity cryptosuite this implementation does not provide."""


class ProofError(CredentialError):
    """A proof that cannot be created or checked as given."""
