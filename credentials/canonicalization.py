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
  faster equivalent through :func:`json.dumps` for values where the two are
  known to agree.
"""

import importlib
import json
import logging
import re
from collections.abc import Callable
from types import ModuleType
from typing import Any

import rfc8785

from credentials.active_context import NotPinned
from credentials.document_loader import DEFAULT_LOADER
from credentials.errors import ContextNotAllowed, MalformedDocument, UndefinedTerm
from credentials.jsonld_rdf import document_to_quads
from credentials.rdfc import Quad, canonicalize_quads, literal

logger = logging.getLogger(__name__)

DocumentLoader = Callable[..., dict[str, Any]]

QuadMemo = dict[tuple[Any, ...], tuple[dict[str, Any], list[Quad]]]
"""Quads already computed during one verification, keyed by the identities of
the document's values. Create one per verification and drop it afterwards:
the keys are object ids, which are only unique while the objects live, and
each entry keeps its document alive for that reason."""

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
    memo: QuadMemo | None = None,
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
    memo: QuadMemo | None = None,
) -> list[Quad] | None:
    """Return the quads of ``document`` from the fast path, or None.

    None means the document needs the general path, which then decides
    whether it is valid. Quads found are kept in ``memo``.
    """
    key = _memo_key(document, loader)
    if memo is not None and key in memo:
        return memo[key][1]
    try:
        quads = document_to_quads(document, loader or DEFAULT_LOADER)
    except NotPinned:
        return None
    if memo is not None:
        memo[key] = (document, quads)
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
    memo: QuadMemo | None = None,
) -> list[Quad]:
    """Return the RDF quads of a JSON-LD document in safe mode.

    Pinned documents take the fast path; the rest take pyld.

    :param memo: quads found earlier in the same verification.
    :raises ContextNotAllowed, UndefinedTerm, MalformedDocument: as
        :func:`expand` does.
    """
    if memo is not None:
        remembered = memo.get(_memo_key(document, loader))
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
    memo: QuadMemo | None = None,
) -> str:
    """Return the RDFC-1.0 canonical N-Quads of a JSON-LD document (safe mode).

    :param memo: quads found earlier in the same verification.
    :raises ContextNotAllowed, UndefinedTerm, MalformedDocument: as
        :func:`expand` does, or if the blank nodes are too symmetric to
        canonicalize in bounded time.
    """
    return canonicalize_quads(document_quads(document, loader, memo))


def canonicalize_jcs(value: Any) -> bytes:
    """Return the RFC 8785 JSON Canonicalization Scheme bytes of ``value``.

    :raises MalformedDocument: for values JCS cannot represent, such as
        integers of magnitude 2**53 or more, or NaN.
    """
    fast = _fast_jcs(value)
    if fast is not None:
        return fast
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as error:
        raise MalformedDocument(
            f"The document cannot be canonicalized with JCS: {error}."
        ) from error


# RFC 8785 sorts keys by UTF-16 code units and Python by code points; the
# two orders agree on keys made of characters below U+D800.
_SAFE_KEY_LIMIT = "\ud800"
_AT_OR_ABOVE_SURROGATES = re.compile("[\ud800-\U0010ffff]")
# rfc8785 rejects integers of magnitude 2**53 and above, although a
# double represents 2**53 exactly, so the fast path leaves those to it.
_JCS_MAX_INTEGER = 2**53 - 1


def _jcs_compatible(value: Any) -> bool:
    """Return whether ``value`` holds only text keys, strings, booleans, null
    and integers of magnitude below 2**53, the values json.dumps writes as
    RFC 8785 does.

    Floats need ECMAScript number formatting, which is left to rfc8785.
    """
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
            elif kind is str or kind is bool or item is None:
                continue
            elif kind is int:
                if not -_JCS_MAX_INTEGER <= item <= _JCS_MAX_INTEGER:
                    return False
            else:
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


def _below_u0100(text: str) -> bool:
    """Return whether every character of ``text`` is below U+0100.

    Names such as "Zoë Ó Briain" stay in that range, and CPython stores such
    text one byte a character, so this costs a copy instead of a scan.
    """
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _fast_jcs(value: Any) -> bytes | None:
    """Return RFC 8785 bytes through :func:`json.dumps`, or None if unsure.

    With sorted keys, no ASCII escaping and compact separators, json.dumps
    writes strings, integers of magnitude below 2**53, booleans and null as RFC
    8785 does, and sorts keys the same way unless a key has a character at
    or above U+D800. Lone surrogates fail to encode and go to rfc8785.
    """
    if not _jcs_compatible(value):
        return None
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    if (
        not _below_u0100(text)
        and _AT_OR_ABOVE_SURROGATES.search(text) is not None
        and not _keys_below(value, _SAFE_KEY_LIMIT)
    ):
        return None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return None
