"""Canonical forms that Data Integrity proofs sign.

* RDFC-1.0 canonical N-Quads of a JSON-LD document, with JSON-LD "safe
  mode": expansion that would drop a property, or leave a relative IRI as a
  type or id, is an error. Those terms would otherwise be outside the
  signature, so anyone could change them unnoticed.

  Two paths produce the RDF dataset. Documents whose contexts are all
  bundled (pinned) take the fast path, :mod:`credentials.jsonld_rdf`, which
  reuses processed contexts and writes quads straight from the JSON. Every
  other document, and every feature the fast path does not implement, takes
  the general path: pyld expands the document in safe mode and converts it
  to RDF. Both paths hand the dataset to this project's RDFC-1.0
  implementation (:mod:`credentials.rdfc`), which also writes the canonical
  N-Quads escapes that pyld 3.3 leaves out.
* JCS (RFC 8785) of a JSON value, through the ``rfc8785`` package, with a
  faster equivalent through ``orjson`` for values where the two are known
  to agree.
"""

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import orjson
import rfc8785

from credentials.active_context import NotPinned
from credentials.document_loader import DEFAULT_LOADER
from credentials.errors import ContextNotAllowed, MalformedDocument, UndefinedTerm
from credentials.jsonld_rdf import document_to_quads
from credentials.rdfc import Quad, canonicalize_quads, literal

logger = logging.getLogger(__name__)

DocumentLoader = Callable[..., dict[str, Any]]

QuadMemo = dict[tuple[Any, ...], tuple[dict[str, Any], list[Quad]]]


@dataclass
class Memo:
    """The facts one verification has found about its document, kept for
    the steps after. Create one per verification and drop it afterwards.

    ``quads`` maps the identities of a document's values to the quads
    already computed for it. The keys are object ids, which are unique only
    while the objects live, so each entry keeps its document alive.
    ``plain_json`` is set by a caller that has walked the whole
    document and found only the values :func:`is_plain_json_scalar`
    accepts, strings, text keys, and objects and arrays that are exactly
    ``dict`` and ``list``. Every part of that document then needs no second
    walk before JCS.
    """

    quads: QuadMemo = field(default_factory=dict)
    plain_json: bool = False


# A JSON-LD keyword or an absolute IRI (scheme followed by a colon) or a
# blank node label; anything else left after expansion is a relative IRI.
_KEYWORD_PREFIX = "@"


def _pyld() -> ModuleType:
    """Return pyld's JSON-LD module, imported on first use.

    Importing pyld takes about 90 ms (measured on the benchmark machine), and
    documents with pinned contexts never need it, so a fresh process that
    only verifies such documents does not pay for it.
    """
    return importlib.import_module("pyld.jsonld")


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
    jsonld = _pyld()
    processor = jsonld.JsonLdProcessor(on_property_dropped=dropped.append)
    try:
        # pyld 3.3 resolves relative IRIs against "http://example.org/base/"
        # unless the base is None; with None they stay relative, so the safe
        # mode check below rejects them.
        expanded = processor.expand(
            document, {"documentLoader": loader or DEFAULT_LOADER, "base": None}
        )
    except jsonld.JsonLdError as error:
        cause = _find_cause(error)
        if cause is not None:
            raise cause from None
        raise MalformedDocument(
            f"JSON-LD expansion failed: {_jsonld_message(error)}."
        ) from error
    problems = [
        f"property {name!r}" if name is not None else "a key that starts with '@'"
        for name in dict.fromkeys(dropped)
    ]
    _check_expanded(expanded, problems)
    if problems:
        raise UndefinedTerm(
            "No JSON-LD context defines "
            + ", ".join(problems)
            + "; define it in a bundled context or remove it. JSON-LD "
            "processing drops an undefined term, so an eddsa-rdfc-2022 "
            "signature would not cover it, and this project signs only "
            "documents whose every term is defined."
        )
    return expanded


def check_safe_mode(
    document: dict[str, Any],
    loader: DocumentLoader | None = None,
    memo: Memo | None = None,
) -> None:
    """Check that ``document`` expands in JSON-LD safe mode.

    :param memo: where to keep the quads found on the way, so that
        canonicalizing the same document afterwards does not convert it
        again.
    :raises ContextNotAllowed, UndefinedTerm, MalformedDocument: as
        :func:`expand` does.
    """
    if pinned_quads(document, loader, memo) is None:
        expand(document, loader)


def pinned_quads(
    document: dict[str, Any],
    loader: DocumentLoader | None = None,
    memo: Memo | None = None,
) -> list[Quad] | None:
    """Return the quads of ``document`` from the fast path, or None.

    None means the document needs the general path, which then decides
    whether it is valid. Quads found are kept in ``memo``.
    """
    key = _memo_key(document, loader)
    if memo is not None and key in memo.quads:
        return memo.quads[key][1]
    try:
        quads = document_to_quads(document, loader or DEFAULT_LOADER)
    except NotPinned:
        return None
    if memo is not None:
        memo.quads[key] = (document, quads)
    return quads


def _memo_key(document: dict[str, Any], loader: Any) -> tuple[Any, ...]:
    return (id(loader), *((key, id(value)) for key, value in document.items()))


def _pyld_term(term: dict[str, Any]) -> str:
    kind = term["type"]
    if kind == "IRI":
        return f"<{term['value']}>"
    if kind == "blank node":
        return str(term["value"])
    return literal(term["value"], term["datatype"], term.get("language"))


def general_quads(
    document: dict[str, Any], loader: DocumentLoader | None = None
) -> list[Quad]:
    """Return the RDF quads of a JSON-LD document through pyld (safe mode).

    :raises ContextNotAllowed, UndefinedTerm, MalformedDocument: as
        :func:`expand` does.
    """
    expanded = expand(document, loader)
    jsonld = _pyld()
    try:
        dataset = jsonld.to_rdf(expanded, {"documentLoader": loader or DEFAULT_LOADER})
    except jsonld.JsonLdError as error:
        raise MalformedDocument(
            f"Conversion to RDF failed: {_jsonld_message(error)}."
        ) from error
    quads = []
    for graph_name, triples in dataset.items():
        graph = "" if graph_name == "@default" else graph_name
        if graph and not graph.startswith("_:"):
            graph = f"<{graph}>"
        for triple in triples:
            quads.append(
                (
                    _pyld_term(triple["subject"]),
                    _pyld_term(triple["predicate"]),
                    _pyld_term(triple["object"]),
                    graph,
                )
            )
    return quads


def document_quads(
    document: dict[str, Any],
    loader: DocumentLoader | None = None,
    memo: Memo | None = None,
) -> list[Quad]:
    """Return the RDF quads of a JSON-LD document in safe mode.

    Pinned documents take the fast path; the rest take pyld.

    :param memo: quads found earlier in the same verification.
    :raises ContextNotAllowed, UndefinedTerm, MalformedDocument: as
        :func:`expand` does.
    """
    if memo is not None:
        remembered = memo.quads.get(_memo_key(document, loader))
        if remembered is not None:
            return remembered[1]
    try:
        return document_to_quads(document, loader or DEFAULT_LOADER)
    except NotPinned as reason:
        logger.debug("General JSON-LD path: %s", reason)
        return general_quads(document, loader)


def canonicalize_rdfc(
    document: dict[str, Any],
    loader: DocumentLoader | None = None,
    memo: Memo | None = None,
) -> str:
    """Return the RDFC-1.0 canonical N-Quads of a JSON-LD document (safe mode).

    :param memo: quads found earlier in the same verification.
    :raises ContextNotAllowed, UndefinedTerm, MalformedDocument: as
        :func:`expand` does, or if the blank nodes are too symmetric to
        canonicalize in bounded time.
    """
    return canonicalize_quads(document_quads(document, loader, memo))


def canonicalize_jcs(value: Any, *, plain_json: bool = False) -> bytes:
    """Return the RFC 8785 JSON Canonicalization Scheme bytes of ``value``.

    :param plain_json: the caller has already checked that ``value`` holds
        only what :attr:`Memo.plain_json` describes.
    :raises MalformedDocument: for values JCS cannot represent, such as
        integers of magnitude 2**53 or more, or NaN.
    """
    fast = _fast_jcs(value, plain_json)
    if fast is not None:
        return fast
    try:
        return rfc8785.dumps(value)
    except rfc8785.IntegerDomainError as error:
        raise MalformedDocument(
            f"The document cannot be canonicalized with JCS: {error}. JCS "
            "writes numbers as IEEE 754 doubles, so integers must lie between "
            f"-{_JCS_MAX_INTEGER} and {_JCS_MAX_INTEGER}. Write a larger number "
            "as a string, or sign with eddsa-rdfc-2022."
        ) from error
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as error:
        raise MalformedDocument(
            f"The document cannot be canonicalized with JCS: {error}."
        ) from error


# RFC 8785 sorts keys by UTF-16 code units, and orjson by UTF-8 bytes,
# which is code point order. The two orders differ only where a character
# beyond U+FFFF (a surrogate pair in UTF-16) meets one from U+E000 to
# U+FFFF, so they agree on text without characters beyond U+FFFF, and on
# keys below U+D800.
_SAFE_KEY_LIMIT = "\ud800"
# Every byte below 0xF0, the first UTF-8 lead byte of characters beyond
# U+FFFF: UTF-8 left empty after deleting these has none. (bytes.translate
# deletes in one C pass, several times faster than a regular expression.)
_BELOW_SUPPLEMENTARY_LEAD = bytes(range(0xF0))
# rfc8785 rejects integers of magnitude 2**53 and above, although a
# double represents 2**53 exactly, so the fast path leaves those to it.
_JCS_MAX_INTEGER = 2**53 - 1


def is_plain_json_scalar(value: Any) -> bool:
    """Return whether ``value`` is null, a boolean or an integer of magnitude
    below 2**53: with strings, the scalars that orjson writes as RFC 8785
    does.

    Floats need ECMAScript number formatting, which is left to rfc8785.
    """
    return (
        value is None
        or value is True
        or value is False
        or (type(value) is int and -_JCS_MAX_INTEGER <= value <= _JCS_MAX_INTEGER)
    )


def _jcs_compatible(value: Any) -> bool:
    """Return whether ``value`` contains only text keys, strings, objects,
    arrays and the scalars :func:`is_plain_json_scalar` accepts."""
    level = [value]
    while level:
        below: list[Any] = []
        for item in level:
            kind = type(item)
            if kind is dict:
                try:
                    # join accepts only text, so one C call checks every key.
                    "".join(item)
                except TypeError:
                    return False
                below.extend(item.values())
            elif kind is list:
                below.extend(item)
            elif kind is not str and not is_plain_json_scalar(item):
                return False
        level = below
    return True


def _keys_below(value: Any, limit: str) -> bool:
    """Return whether every key in ``value`` sorts below ``limit``."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if any(max(key, default="") >= limit for key in item):
                return False
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def _fast_jcs(value: Any, plain_json: bool) -> bytes | None:
    """Serialize ``value`` to RFC 8785 bytes through orjson, or return None
    where the two could differ.

    With sorted keys, orjson writes strings (with the same escapes), the
    scalars :func:`is_plain_json_scalar` accepts, objects and arrays as RFC
    8785 does, compact and in UTF-8. Its key order can differ only in text
    with characters beyond U+FFFF. It refuses lone surrogates and keys that
    are not exactly ``str``, and the caller passes those to rfc8785.
    """
    if not plain_json and not _jcs_compatible(value):
        return None
    try:
        data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return None
    if (
        not data.isascii()
        and data.translate(None, _BELOW_SUPPLEMENTARY_LEAD)
        and not _keys_below(value, _SAFE_KEY_LIMIT)
    ):
        return None
    return data
