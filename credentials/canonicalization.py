"""Canonical forms that Data Integrity proofs sign.

* RDFC-1.0 canonical N-Quads of a JSON-LD document, through pyld, with
  JSON-LD "safe mode": expansion that would drop a property, or leave a
  relative IRI as a type or id, is an error. Those terms would otherwise be
  outside the signature, so anyone could change them unnoticed.
* JCS (RFC 8785) of a JSON value, through the ``rfc8785`` package.
"""

import logging
from collections.abc import Callable
from typing import Any

import rfc8785
from pyld import jsonld

from credentials.document_loader import DEFAULT_LOADER
from credentials.errors import ContextNotAllowed, MalformedDocument, UndefinedTerm

logger = logging.getLogger(__name__)

DocumentLoader = Callable[..., dict[str, Any]]

# A JSON-LD keyword or an absolute IRI (scheme followed by a colon) or a
# blank node label; anything else left after expansion is a relative IRI.
_KEYWORD_PREFIX = "@"


def _find_cause(error: BaseException) -> BaseException | None:
    """Return a project error hidden in pyld's chain of wrapped exceptions."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ContextNotAllowed | UndefinedTerm):
            return current
        current = current.__cause__ or current.__context__
    return None


def _jsonld_message(error: BaseException) -> str:
    messages: list[str] = []
    current: BaseException | None = error
    while current is not None and len(messages) < 4:
        text = current.args[0] if current.args else type(current).__name__
        code = getattr(current, "code", None)
        messages.append(f"{text} ({code})" if code else str(text))
        current = current.__cause__
    return "; ".join(messages)


def _is_relative(iri: str) -> bool:
    return not iri.startswith("_:") and ":" not in iri


def _check_expanded(node: Any, problems: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _check_expanded(item, problems)
        return
    if not isinstance(node, dict):
        return
    for type_iri in node.get("@type", []) if "@value" not in node else []:
        if isinstance(type_iri, str) and _is_relative(type_iri):
            problems.append(f"type {type_iri!r}")
    node_id = node.get("@id")
    if isinstance(node_id, str) and _is_relative(node_id):
        problems.append(f"id {node_id!r}")
    for key, value in node.items():
        if not key.startswith(_KEYWORD_PREFIX) or key in ("@graph", "@list", "@set"):
            _check_expanded(value, problems)


def expand(document: dict[str, Any], loader: DocumentLoader | None = None) -> Any:
    """Expand a JSON-LD document in safe mode.

    :raises ContextNotAllowed: if the document names a context that is not
        bundled (it is never fetched).
    :raises UndefinedTerm: if a property, type or id does not expand to an
        absolute IRI through the document's contexts.
    :raises MalformedDocument: if JSON-LD processing fails otherwise.
    """
    dropped: list[str] = []
    processor = jsonld.JsonLdProcessor(on_property_dropped=dropped.append)
    try:
        expanded = processor.expand(
            document, {"documentLoader": loader or DEFAULT_LOADER}
        )
    except jsonld.JsonLdError as error:
        cause = _find_cause(error)
        if cause is not None:
            raise cause from None
        raise MalformedDocument(
            f"JSON-LD expansion failed: {_jsonld_message(error)}."
        ) from error
    problems = [f"property {name!r}" for name in dict.fromkeys(dropped)]
    _check_expanded(expanded, problems)
    if problems:
        raise UndefinedTerm(
            "No JSON-LD context defines "
            + ", ".join(problems)
            + "; define it in a bundled context or remove it, because an "
            "undefined term would not be covered by the signature."
        )
    return expanded


def canonicalize_rdfc(
    document: dict[str, Any], loader: DocumentLoader | None = None
) -> str:
    """Return the canonical N-Quads of a JSON-LD document (safe mode).

    NOTE: pyld 3.3 escapes only ``\\t \\n \\r " \\\\`` in literals, while
    RDFC-1.0 canonical N-Quads also escapes other control characters
    (``\\b``, ``\\f``, ``\\u0000``...). Literals holding such characters
    therefore canonicalize differently from RDFC-1.0 implementations.

    :raises ContextNotAllowed, UndefinedTerm, MalformedDocument: as
        :func:`expand` does.
    """
    expanded = expand(document, loader)
    try:
        nquads: str = jsonld.normalize(
            expanded,
            {
                "algorithm": "URDNA2015",
                "format": "application/n-quads",
                "documentLoader": loader or DEFAULT_LOADER,
            },
        )
    except jsonld.JsonLdError as error:
        raise MalformedDocument(
            f"RDF canonicalization failed: {_jsonld_message(error)}."
        ) from error
    return nquads


def canonicalize_jcs(value: Any) -> bytes:
    """Return the RFC 8785 JSON Canonicalization Scheme bytes of ``value``.

    :raises MalformedDocument: for values JCS cannot represent, such as
        integers beyond 2**53 or NaN.
    """
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as error:
        raise MalformedDocument(
            f"The document cannot be canonicalized with JCS: {error}."
        ) from error
