"""Direct conversion of JSON-LD documents with pinned contexts to RDF quads.

This is the fast path of RDF canonicalization. It walks the compacted
document once, with processed contexts from :mod:`credentials.active_context`,
and writes the quads that JSON-LD 1.1 expansion followed by "Deserialize
JSON-LD to RDF" would produce, without building the expanded document or the
node map. Blank node labels differ from a JSON-LD processor's, which does
not matter because RDFC-1.0 relabels them.

Whatever could be dropped by expansion (an undefined term, a relative IRI, a
null term), and every feature this walker does not implement, raises
:class:`NotPinned`; the caller then runs the general JSON-LD processor,
which either handles the document or reports the error. So a document that
converts here is also valid in JSON-LD safe mode.

Written from the W3C JSON-LD 1.1 Processing Algorithms and API
(Recommendation, July 2020): the Expansion Algorithm (section 5.1.2), Value
Expansion (5.3.2) and Object to RDF Conversion (8.2.2).
"""

import re
from typing import Any

from credentials.active_context import (
    INITIAL_CONTEXT,
    ActiveContext,
    NotPinned,
    TermDefinition,
    apply_document_context,
    apply_scoped_context,
    is_absolute_iri,
)
from credentials.rdfc import XSD_STRING, Quad, literal

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_BOOLEAN = XSD + "boolean"
XSD_INTEGER = XSD + "integer"
XSD_DOUBLE = XSD + "double"
RDF_TYPE = f"<{RDF}type>"
RDF_FIRST = f"<{RDF}first>"
RDF_REST = f"<{RDF}rest>"
RDF_NIL = f"<{RDF}nil>"

# Language tags that JSON-LD processors accept as well-formed (BCP 47 shape).
_LANGUAGE_TAG = re.compile(r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*")
_VALUE_KEYS = frozenset(("@value", "@type", "@language"))
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# JSON-LD writes numbers at or beyond 10**21 as doubles, as JavaScript does.
_DOUBLE_THRESHOLD = 10**21


def canonical_double(value: float | int) -> str:
    """Return the canonical ``xsd:double`` form JSON-LD uses, such as ``1.5E0``.

    JSON-LD processors print 16 significant digits (JavaScript's
    ``toExponential(15)``), then drop trailing zeros after the first
    fractional digit and the exponent's sign and leading zeros.
    """
    mantissa, _, exponent = f"{float(value):.15e}".partition("e")
    whole, _, fraction = mantissa.partition(".")
    fraction = fraction.rstrip("0") or "0"
    return f"{whole}.{fraction}E{int(exponent)}"


def native_literal(value: Any, datatype: str | None) -> str:
    """Return the N-Quads literal of a JSON string, boolean or number.

    ``datatype`` is the coerced or given datatype IRI, if any.
    """
    if isinstance(value, str):
        if datatype == XSD_DOUBLE:
            return literal(_string_double(value), XSD_DOUBLE)
        return literal(value, datatype or XSD_STRING)
    if isinstance(value, bool):
        return literal("true" if value else "false", datatype or XSD_BOOLEAN)
    if isinstance(value, int):
        if abs(value) >= _DOUBLE_THRESHOLD or datatype == XSD_DOUBLE:
            return literal(canonical_double(value), datatype or XSD_DOUBLE)
        return literal(str(value), datatype or XSD_INTEGER)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise NotPinned("a number that JSON cannot carry")
        if value.is_integer() and abs(value) < _DOUBLE_THRESHOLD:
            if datatype != XSD_DOUBLE:
                return literal(str(int(value)), datatype or XSD_INTEGER)
        return literal(canonical_double(value), datatype or XSD_DOUBLE)
    raise NotPinned(f"a value of type {type(value).__name__}")


def value_key(value: Any, datatype: str | None, language: str | None) -> Any:
    """Return the identity of an expanded value object in the node map.

    jsonld.js merges two values of one property only if their ``@value``
    are strictly equal (so ``true`` and ``1`` differ, and ``1`` and ``1.0``
    do not) and their ``@type`` and ``@language`` match. Two values may
    differ and still give the same RDF literal, such as ``0`` and
    ``{"@value": 0, "@type": "xsd:integer"}``; both quads are then kept.
    """
    if isinstance(value, bool):
        kind = "boolean"
    elif isinstance(value, str):
        kind = "string"
    else:
        kind = "number"
    return ("@value", kind, value, datatype, language)


def _string_double(text: str) -> str:
    """Return the canonical form of a decimal string typed ``xsd:double``.

    pyld and jsonld.js both canonicalize such strings, but disagree on text
    that is not a plain decimal number, which therefore takes the general
    path.
    """
    if _DECIMAL.fullmatch(text) is None:
        raise NotPinned(f"xsd:double text {text!r} that is not a decimal number")
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise NotPinned(f"xsd:double text {text!r} beyond the double range")
    return canonical_double(number)


class _QuadWriter:
    """Walks one document and collects its quads."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.quads: list[Quad] = []
        self.seen: set[tuple[Any, ...]] = set()
        self.labels: dict[str, str] = {}
        self.count = 0

    def emit(self, quad: Quad) -> None:
        """Add a quad unless it is already there, as the JSON-LD node map does."""
        if quad not in self.seen:
            self.seen.add(quad)
            self.quads.append(quad)

    def emit_value(self, quad: Quad, key: Any) -> None:
        """Add a quad unless the node map would have merged its object.

        ``key`` is the object's node map identity: its term for nodes, and
        :func:`value_key` for values, which can differ from the literal.
        """
        seen = (quad[0], quad[1], key, quad[3])
        if seen not in self.seen:
            self.seen.add(seen)
            self.quads.append(quad)

    def fresh_blank(self) -> str:
        self.count += 1
        return f"_:b{self.count}"

    def blank(self, label: str) -> str:
        term = self.labels.get(label)
        if term is None:
            term = self.labels[label] = self.fresh_blank()
        return term

    def iri_term(self, iri: str) -> str:
        if iri.startswith("_:"):
            return self.blank(iri)
        if not is_absolute_iri(iri):
            raise NotPinned(f"IRI {iri!r} is not absolute")
        return f"<{iri}>"

    def map_element(
        self,
        element: dict[str, Any],
        active: ActiveContext,
        definition: TermDefinition | None,
        graph: str,
    ) -> tuple[str, Any]:
        """Convert a JSON object (node or value object).

        :returns: its term and its node map identity (see :meth:`emit_value`).
        """
        if active.previous is not None and not self._keeps_scope(element, active):
            active = active.previous
        if definition is not None and definition.has_scoped_context:
            active = apply_scoped_context(active, definition, propagate=True)
        if "@context" in element:
            active = apply_document_context(active, element["@context"], self.loader)

        type_scoped = active
        expanded = _expand_keys(element, active)
        type_entry = expanded.get("@type")
        if type_entry is not None:
            types = type_entry[1]
            type_names = types if isinstance(types, list) else [types]
            if not all(isinstance(name, str) for name in type_names):
                raise NotPinned("a type that is not a string")
            for name in sorted(type_names):
                type_definition = type_scoped.terms.get(name)
                if type_definition is not None and type_definition.has_scoped_context:
                    active = apply_scoped_context(
                        active, type_definition, propagate=False
                    )
            if active is not type_scoped:
                # Keys other than the type's are read in the type's scope.
                expanded = _expand_keys(element, active)
                if expanded.get("@type", (None,))[0] != type_entry[0]:
                    raise NotPinned("a type-scoped context that redefines @type")

        if "@value" in expanded:
            return self.value_object(expanded, type_scoped)
        if "@list" in expanded or "@set" in expanded:
            raise NotPinned("a list or set object outside a property")
        subject = self.node(expanded, active, type_scoped, graph)
        return subject, subject

    def _keeps_scope(self, element: dict[str, Any], active: ActiveContext) -> bool:
        """Return whether a type-scoped context still applies to ``element``.

        It does for value objects and for objects holding only an ``@id``.
        """
        if len(element) == 1:
            return active.vocab_iri(next(iter(element))) in ("@id", "@value")
        return any(active.vocab_iri(key) == "@value" for key in element)

    def value_object(
        self, expanded: dict[str, Any], type_scoped: ActiveContext
    ) -> tuple[str, Any]:
        if not _VALUE_KEYS.issuperset(expanded):
            raise NotPinned("a value object with other keywords")
        value = expanded["@value"][1]
        datatype = None
        if "@type" in expanded:
            raw = expanded["@type"][1]
            if not isinstance(raw, str):
                raise NotPinned("a value @type that is not a string")
            datatype = type_scoped.vocab_iri(raw)
            if not is_absolute_iri(datatype):
                raise NotPinned(f"value @type {raw!r} is not an absolute IRI")
        if "@language" in expanded:
            language = expanded["@language"][1]
            if (
                datatype is not None
                or not isinstance(value, str)
                or not isinstance(language, str)
                or _LANGUAGE_TAG.fullmatch(language) is None
            ):
                raise NotPinned("a language-tagged value outside the fast path")
            language = language.lower()
            return literal(value, language=language), value_key(value, None, language)
        if value is None or isinstance(value, dict | list):
            raise NotPinned("a value object without a scalar @value")
        return native_literal(value, datatype), value_key(value, datatype, None)

    def node(
        self,
        expanded: dict[str, Any],
        active: ActiveContext,
        type_scoped: ActiveContext,
        graph: str,
    ) -> str:
        if "@id" in expanded:
            raw_id = expanded["@id"][1]
            if not isinstance(raw_id, str):
                raise NotPinned("an @id that is not a string")
            subject = self.iri_term(active.expand_iri(raw_id, vocab=False))
        else:
            subject = self.fresh_blank()

        emit = self.emit
        for iri, (key, value) in expanded.items():
            if iri == "@id":
                continue
            if iri == "@type":
                names = value if isinstance(value, list) else [value]
                for name in names:
                    type_term = type_scoped.vocab_term(name)
                    if type_term is None:
                        raise NotPinned(f"type {name!r} is not an absolute IRI")
                    emit((subject, RDF_TYPE, type_term, graph))
                continue
            predicate = active.vocab_term(key)
            if predicate is None:
                raise NotPinned(f"key {key!r} does not expand to an absolute IRI")
            self.property_values(subject, predicate, key, value, active, graph)
        return subject

    def property_values(
        self,
        subject: str,
        predicate: str,
        key: str,
        value: Any,
        active: ActiveContext,
        graph: str,
    ) -> None:
        definition = active.terms.get(key)
        container = definition.container if definition is not None else frozenset()
        if definition is not None and definition.type_mapping == "@json":
            raise NotPinned(f"JSON literal {key!r}")
        if "@list" in container:
            items = value if isinstance(value, list) else [value]
            head = self.list_items(items, key, active, graph)
            self.emit_list(subject, predicate, head, graph)
            return
        for item in _flatten(value):
            if item is None:
                continue
            if "@graph" in container:
                if not isinstance(item, dict):
                    raise NotPinned("a graph container holding a scalar")
                graph_name = self.fresh_blank()
                term, _ = self.map_element(item, active, definition, graph_name)
                if term[0] == '"':
                    raise NotPinned("a graph container holding a value object")
                self.emit((subject, predicate, graph_name, graph))
                continue
            if isinstance(item, dict) and "@list" in item:
                if len(item) != 1:
                    raise NotPinned("a list object with other keys")
                inner = item["@list"]
                inner_items = inner if isinstance(inner, list) else [inner]
                head = self.list_items(inner_items, key, active, graph)
                self.emit_list(subject, predicate, head, graph)
            else:
                term, identity = self.item(item, key, active, graph)
                self.emit_value((subject, predicate, term, graph), identity)

    def emit_list(self, subject: str, predicate: str, head: str, graph: str) -> None:
        """Add the quad that links a list, even if the same quad is there.

        The JSON-LD node map keeps every list object, so two empty lists under
        one property give the ``rdf:nil`` quad twice, in jsonld.js and pyld.
        """
        self.quads.append((subject, predicate, head, graph))

    def list_items(
        self,
        items: list[Any],
        key: str,
        active: ActiveContext,
        graph: str,
    ) -> str:
        terms = []
        for item in items:
            if item is None:
                continue
            if isinstance(item, list) or (isinstance(item, dict) and "@list" in item):
                raise NotPinned("a list inside a list")
            terms.append(self.item(item, key, active, graph)[0])
        head = RDF_NIL
        for term in reversed(terms):
            node = self.fresh_blank()
            self.emit((node, RDF_FIRST, term, graph))
            self.emit((node, RDF_REST, head, graph))
            head = node
        return head

    def item(
        self,
        item: Any,
        key: str,
        active: ActiveContext,
        graph: str,
    ) -> tuple[str, Any]:
        """Convert one value of property ``key``.

        :returns: its term and its node map identity (see :meth:`emit_value`).
        """
        definition = active.terms.get(key)
        if definition is None and isinstance(item, str):
            return literal(item), value_key(item, None, None)
        if isinstance(item, dict):
            return self.map_element(item, active, definition, graph)
        if definition is not None and definition.has_scoped_context:
            # Value expansion reads the term's definition in its own scope.
            active = apply_scoped_context(active, definition, propagate=True)
            definition = active.terms.get(key)
        type_mapping = definition.type_mapping if definition is not None else None
        if isinstance(item, str) and type_mapping in ("@id", "@vocab"):
            iri = active.expand_iri(item, vocab=type_mapping == "@vocab")
            term = self.iri_term(iri)
            return term, term
        if type_mapping in ("@id", "@vocab"):
            type_mapping = None
        return native_literal(item, type_mapping), value_key(item, type_mapping, None)


def _expand_keys(
    element: dict[str, Any], active: ActiveContext
) -> dict[str, tuple[str, Any]]:
    """Return the entries of a JSON object by expanded key, ``@context`` aside."""
    expanded: dict[str, tuple[str, Any]] = {}
    for key, value in element.items():
        if key == "@context":
            continue
        iri = active.vocab_iri(key)
        if iri in expanded:
            raise NotPinned(f"two keys that mean {iri}")
        expanded[iri] = (key, value)
    return expanded


def _flatten(value: Any) -> list[Any]:
    """Return the items of a property value; nested arrays count as one."""
    if not isinstance(value, list):
        return [value]
    if not any(isinstance(item, list) for item in value):
        return value
    items: list[Any] = []
    for item in value:
        items.extend(_flatten(item))
    return items


def document_to_quads(document: Any, loader: Any) -> list[Quad]:
    """Return the RDF quads of a JSON-LD document whose contexts are pinned.

    :raises NotPinned: if the document needs the general JSON-LD processor,
        either because it uses a feature this walker does not implement or
        because expansion would drop or reject part of it.
    """
    if not isinstance(document, dict):
        raise NotPinned("a top-level value that is not an object")
    writer = _QuadWriter(loader)
    try:
        writer.map_element(document, INITIAL_CONTEXT, None, "")
    except RecursionError as error:
        raise NotPinned("a document nested too deeply") from error
    return writer.quads
