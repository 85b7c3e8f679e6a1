"""The offline JSON-LD document loader.

Only the contexts bundled in ``credentials/contexts/`` (listed in its
``index.json``) are served. Any other URL raises :class:`ContextNotAllowed`
naming it; nothing is ever fetched from the network, whoever wrote the
document.

pyld keeps a processed context between calls only when the loader marks the
document ``"tag": "static"``, so every bundled document carries that tag.
"""

import copy
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from credentials.errors import ContextNotAllowed

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
CREDENTIALS_V1 = "https://www.w3.org/2018/credentials/v1"
UNDEFINED_TERMS_V2 = "https://www.w3.org/ns/credentials/undefined-terms/v2"
OPEN_BADGES_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
TRAINING_V1 = "https://staff-passport.example/contexts/training/v1"

RemoteDocument = dict[str, Any]


# The package is installed as files (setuptools package data), so a path
# beside this module finds the contexts. importlib.resources would too, but
# its first call imports zipfile and more, which cost a fresh process about
# 1.5 ms on the first verification.
CONTEXTS_DIR = Path(__file__).resolve().parent / "contexts"


@cache
def bundled_context_files() -> dict[str, str]:
    """Return the bundled context URLs mapped to their file names."""
    index = CONTEXTS_DIR / "index.json"
    mapping: dict[str, str] = json.loads(index.read_text(encoding="utf-8"))
    return mapping


@cache
def _bundled_document(url: str) -> Any:
    file_name = bundled_context_files()[url]
    path = CONTEXTS_DIR / file_name
    return json.loads(path.read_text(encoding="utf-8"))


def shared_bundled_document(url: str) -> Any:
    """Return the parsed bundled document at ``url`` without copying it.

    The value is shared by every caller and must not be modified.

    :raises ContextNotAllowed: if ``url`` is not bundled.
    """
    if url not in bundled_context_files():
        raise ContextNotAllowed(url)
    return _bundled_document(url)


def bundled_document(url: str) -> Any:
    """Return a copy of the parsed bundled document at ``url``.

    :raises ContextNotAllowed: if ``url`` is not bundled.
    """
    if url not in bundled_context_files():
        raise ContextNotAllowed(url)
    return copy.deepcopy(_bundled_document(url))


class StaticDocumentLoader:
    """A pyld document loader over the bundled contexts.

    :param extra: more documents to serve, by URL, for example a trust's
        cached ``did:web`` document or a test context. They are served as
        given and never fetched.

    NOTE: pyld 3.3 keeps "static" documents in a process-wide cache keyed by
    URL, so an extra document served at a bundled URL may be ignored in
    favour of the bundled one that an earlier call loaded.
    """

    def __init__(self, extra: Mapping[str, Any] | None = None) -> None:
        self._extra = dict(extra or {})

    def allows(self, url: str) -> bool:
        """Return whether ``url`` would be served."""
        return url in self._extra or url in bundled_context_files()

    def serves_bundled(self, url: str) -> bool:
        """Return whether ``url`` is served from the bundle, not from ``extra``."""
        return url not in self._extra and url in bundled_context_files()

    def __call__(
        self, url: str, options: Mapping[str, Any] | None = None
    ) -> RemoteDocument:
        if url in self._extra:
            document = self._extra[url]
        elif url in bundled_context_files():
            # pyld does not modify loaded documents, so the cached parse is
            # shared instead of copied on every call.
            document = shared_bundled_document(url)
        else:
            raise ContextNotAllowed(url)
        return {
            "contextUrl": None,
            "documentUrl": url,
            "document": document,
            "tag": "static",
        }


DEFAULT_LOADER = StaticDocumentLoader()
