"""RDF Dataset Canonicalization (RDFC-1.0) and canonical N-Quads.

Written from the W3C Recommendation "RDF Dataset Canonicalization" (RDFC-1.0,
May 2024). A quad is a tuple of four terms, each already in its N-Quads form:

* an IRI ``<http://example.org/a>``,
* a blank node ``_:label``,
* a literal ``"text"``, ``"text"@en`` or ``"5"^^<http://...#integer>``, with
  the lexical form escaped by :func:`escape_literal`,
* and ``""`` as the graph of the default graph.

Keeping terms serialized makes hashing and the final output plain string
joins, which is most of the work for the small datasets credentials make.
"""

import hashlib
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from credentials.errors import MalformedDocument

Quad = tuple[str, str, str, str]

BLANK_PREFIX = "_:"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

# RDFC-1.0 leaves the bound on "Hash N-Degree Quads" to implementations, so
# that poisoned datasets cannot make canonicalization run for hours. Honest
# credentials never reach the N-degree step more than a handful of times.
MAX_N_DEGREE_CALLS = 2_000

# Canonical N-Quads escapes in literals: ECHAR for backspace, tab, line feed,
# form feed, carriage return, quotation mark and backslash, and UCHAR with
# upper-case hex digits for the other characters U+0000-U+001F and U+007F.
_LITERAL_ESCAPES = {code: f"\\u{code:04X}" for code in (*range(0x20), 0x7F)}
_LITERAL_ESCAPES.update(
    {
        0x08: "\\b",
        0x09: "\\t",
        0x0A: "\\n",
        0x0C: "\\f",
        0x0D: "\\r",
        0x22: '\\"',
        0x5C: "\\\\",
    }
)
_NEEDS_ESCAPE = frozenset(chr(code) for code in _LITERAL_ESCAPES)


def escape_literal(text: str) -> str:
    """Escape a literal's lexical form as canonical N-Quads requires."""
    if _NEEDS_ESCAPE.isdisjoint(text):
        return text
    return text.translate(_LITERAL_ESCAPES)


def literal(text: str, datatype: str = XSD_STRING, language: str | None = None) -> str:
    """Return the N-Quads form of a literal.

    ``language`` makes a language-tagged string and overrides ``datatype``.
    """
    escaped = escape_literal(text)
    if language is not None:
        return f'"{escaped}"@{language}'
    if datatype == XSD_STRING:
        return f'"{escaped}"'
    return f'"{escaped}"^^<{datatype}>'


def serialize_quad(quad: Quad) -> str:
    """Return one N-Quads line, newline included."""
    subject, predicate, obj, graph = quad
    if graph:
        return f"{subject} {predicate} {obj} {graph} .\n"
    return f"{subject} {predicate} {obj} .\n"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _is_blank(term: str) -> bool:
    return term.startswith(BLANK_PREFIX)


@dataclass
class _IdentifierIssuer:
    """Issues ``prefix0``, ``prefix1``... in first-request order."""

    prefix: str
    issued: dict[str, str] = field(default_factory=dict)

    def issue(self, identifier: str) -> str:
        existing = self.issued.get(identifier)
        if existing is None:
            existing = f"{self.prefix}{len(self.issued)}"
            self.issued[identifier] = existing
        return existing

    def copy(self) -> "_IdentifierIssuer":
        return _IdentifierIssuer(self.prefix, dict(self.issued))


def _cannot_win(path: str, chosen_path: str) -> bool:
    """Return whether ``path`` can no longer sort before the chosen path."""
    return bool(chosen_path) and len(path) >= len(chosen_path) and path > chosen_path


class _Canonicalizer:
    """The state of one run of the RDFC-1.0 algorithm over one dataset."""

    def __init__(self, quads: Sequence[Quad]) -> None:
        self.quads = quads
        self.quads_of: dict[str, list[Quad]] = {}
        mentions = self.quads_of
        for quad in quads:
            subject, _, obj, graph = quad
            # Only blank node labels start with "_": IRIs are written "<...>",
            # literals '"..."' and the default graph "". A quad is listed once
            # for each distinct blank node in it.
            if subject[:1] == "_":
                mentions.setdefault(subject, []).append(quad)
            if obj[:1] == "_" and obj != subject:
                mentions.setdefault(obj, []).append(quad)
            if graph[:1] == "_" and graph != subject and graph != obj:
                mentions.setdefault(graph, []).append(quad)
        self.canonical = _IdentifierIssuer("_:c14n")
        self.first_degree: dict[str, str] = {}
        self.n_degree_calls = 0

    def hash_first_degree(self, identifier: str) -> str:
        cached = self.first_degree.get(identifier)
        if cached is not None:
            return cached
        lines = []
        for subject, predicate, obj, graph in self.quads_of[identifier]:
            # The blank node being hashed is _:a and every other one _:z.
            if subject[:1] == "_":
                subject = "_:a" if subject == identifier else "_:z"
            if obj[:1] == "_":
                obj = "_:a" if obj == identifier else "_:z"
            if graph:
                if graph[:1] == "_":
                    graph = "_:a" if graph == identifier else "_:z"
                lines.append(f"{subject} {predicate} {obj} {graph} .\n")
            else:
                lines.append(f"{subject} {predicate} {obj} .\n")
        lines.sort()
        digest = _sha256("".join(lines))
        self.first_degree[identifier] = digest
        return digest

    def hash_related(
        self, related: str, quad: Quad, issuer: _IdentifierIssuer, position: str
    ) -> str:
        identifier = self.canonical.issued.get(related)
        if identifier is None:
            identifier = issuer.issued.get(related)
        if identifier is None:
            identifier = self.hash_first_degree(related)
        if position == "g":
            return _sha256(position + identifier)
        return _sha256(position + quad[1] + identifier)

    def hash_n_degree(
        self, identifier: str, issuer: _IdentifierIssuer
    ) -> tuple[str, _IdentifierIssuer]:
        self.n_degree_calls += 1
        if self.n_degree_calls > MAX_N_DEGREE_CALLS:
            raise MalformedDocument(
                "RDF canonicalization gave up after "
                f"{MAX_N_DEGREE_CALLS} N-degree hash steps; the document's blank "
                "nodes are too symmetric to canonicalize in bounded time."
            )
        related_by_hash: dict[str, list[str]] = {}
        for quad in self.quads_of[identifier]:
            for term, position in ((quad[0], "s"), (quad[2], "o"), (quad[3], "g")):
                if _is_blank(term) and term != identifier:
                    digest = self.hash_related(term, quad, issuer, position)
                    related_by_hash.setdefault(digest, []).append(term)

        data = []
        for digest in sorted(related_by_hash):
            data.append(digest)
            chosen_path = ""
            chosen_issuer: _IdentifierIssuer | None = None
            for permutation in itertools.permutations(related_by_hash[digest]):
                issuer_copy = issuer.copy()
                path = ""
                recursion: list[str] = []
                skip = False
                for related in permutation:
                    canonical = self.canonical.issued.get(related)
                    if canonical is not None:
                        path += canonical
                    else:
                        if related not in issuer_copy.issued:
                            recursion.append(related)
                        path += issuer_copy.issue(related)
                    if _cannot_win(path, chosen_path):
                        skip = True
                        break
                if skip:
                    continue
                for related in recursion:
                    result, issuer_copy = self.hash_n_degree(related, issuer_copy)
                    path += issuer_copy.issued[related] + "<" + result + ">"
                    if _cannot_win(path, chosen_path):
                        skip = True
                        break
                if skip:
                    continue
                if not chosen_path or path < chosen_path:
                    chosen_path = path
                    chosen_issuer = issuer_copy
            data.append(chosen_path)
            if chosen_issuer is not None:
                issuer = chosen_issuer
        return _sha256("".join(data)), issuer

    def issue_identifiers(self) -> None:
        by_hash: dict[str, list[str]] = {}
        for identifier in self.quads_of:
            digest = self.hash_first_degree(identifier)
            by_hash.setdefault(digest, []).append(identifier)

        shared = []
        for digest in sorted(by_hash):
            identifiers = by_hash[digest]
            if len(identifiers) == 1:
                self.canonical.issue(identifiers[0])
            else:
                shared.append(identifiers)

        for identifiers in shared:
            results = []
            for identifier in identifiers:
                if identifier in self.canonical.issued:
                    continue
                temporary = _IdentifierIssuer("_:b")
                temporary.issue(identifier)
                results.append(self.hash_n_degree(identifier, temporary))
            results.sort(key=lambda result: result[0])
            for _, issuer in results:
                for existing in issuer.issued:
                    self.canonical.issue(existing)

    def canonical_lines(self) -> list[str]:
        self.issue_identifiers()
        # Only blank nodes have canonical labels, so other terms map to
        # themselves.
        label = self.canonical.issued.get
        lines = []
        for subject, predicate, obj, graph in self.quads:
            subject = label(subject, subject)
            obj = label(obj, obj)
            if graph:
                graph = label(graph, graph)
                lines.append(f"{subject} {predicate} {obj} {graph} .\n")
            else:
                lines.append(f"{subject} {predicate} {obj} .\n")
        lines.sort()
        return lines


def canonicalize_quads(quads: Iterable[Quad]) -> str:
    """Return the RDFC-1.0 canonical N-Quads of a dataset.

    Lines are sorted in Unicode code point order, as RDFC-1.0 specifies.
    Quads are taken as given: a repeated quad is hashed and written twice.
    JSON-LD processors (jsonld.js 8, pyld 3.3) produce one for each repeated
    empty list, and rdf-canonize keeps it, so signatures agree only if we
    keep it too. The JSON-LD converters here drop every other duplicate.

    :raises MalformedDocument: if the dataset needs more than
        :data:`MAX_N_DEGREE_CALLS` N-degree hash steps.
    """
    return "".join(_Canonicalizer(list(quads)).canonical_lines())
