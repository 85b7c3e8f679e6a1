"""JSON-LD 1.1 context processing for the pinned, bundled contexts.

The processed form of each context is cached, so a credential that names the
same contexts as the last one costs no context processing at all. It
implements only the features that the bundled contexts use. These are term
definitions with ``@id``, ``@type``, ``@container`` (``@set``, ``@list``,
``@graph``), ``@context`` (property- and type-scoped), ``@protected`` and
``@prefix``, keyword aliases, ``@vocab``, ``@version`` and the null context.
Anything else raises :class:`NotPinned`, and the caller falls back to the
general JSON-LD processor, which either handles it or reports the error.
This module never decides that a document is invalid.

Written from the W3C JSON-LD 1.1 Processing Algorithms and API
(Recommendation, July 2020), sections 4.1 to 4.3 and 5.2.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from credentials.document_loader import StaticDocumentLoader, shared_bundled_document
from credentials.errors import ContextNotAllowed


class NotPinned(Exception):
    """The document uses something the pinned-context fast path does not cover.

    Internal to the credential core, because the caller falls back to the
    general JSON-LD processor. The message names what was not covered.
    """


KEYWORDS = frozenset(
    (
        "@base",
        "@container",
        "@context",
        "@direction",
        "@graph",
        "@id",
        "@import",
        "@included",
        "@index",
        "@json",
        "@language",
        "@list",
        "@nest",
        "@none",
        "@prefix",
        "@propagate",
        "@protected",
        "@reverse",
        "@set",
        "@type",
        "@value",
        "@version",
        "@vocab",
    )
)

# An absolute IRI as the JSON-LD processors tell it apart from a relative
# one, narrowed to the characters that N-Quads writes without escaping, so
# that anything unusual takes the general path.
_ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\x00-\x20<>\"{}|^`\\]*")
_GEN_DELIMS = frozenset(":/?#[]@")
_TERM_KEYS = frozenset(
    ("@id", "@type", "@container", "@context", "@protected", "@prefix")
)
_CONTAINERS = frozenset((frozenset(), frozenset(("@set",)), frozenset(("@list",))))
_GRAPH_CONTAINERS = frozenset((frozenset(("@graph",)), frozenset(("@graph", "@set"))))

# A bound on the number of processed contexts kept in memory. The bundled
# contexts and their scoped contexts need a few dozen. The bound stops a
# stream of documents that combine contexts in ever new orders from growing
# the cache without limit. Past it, contexts are processed but not kept.
MAX_CACHED_CONTEXTS = 4096
# The expansions of keys and types each processed context remembers. Past
# the bound a context expands new keys every time, at the cost of speed only.
MAX_REMEMBERED_IRIS = 1024
_NO_CONTEXT = object()


def is_absolute_iri(value: str) -> bool:
    """Return whether ``value`` is an absolute IRI the fast path may write."""
    return _ABSOLUTE_IRI.fullmatch(value) is not None


@dataclass(frozen=True)
class TermDefinition:
    """One processed term definition.

    ``iri`` is an absolute IRI, a blank node label or a keyword (an alias).
    ``scoped_context`` is the raw ``@context`` of the term, or the module's
    "no context" marker.
    """

    iri: str
    type_mapping: str | None = None
    container: frozenset[str] = frozenset()
    scoped_context: Any = field(default=_NO_CONTEXT, compare=False)
    scoped_key: int | None = None
    protected: bool = False
    prefix: bool = False

    @property
    def has_scoped_context(self) -> bool:
        return self.scoped_context is not _NO_CONTEXT

    def same_as(self, other: "TermDefinition") -> bool:
        """Return whether two definitions agree on everything but ``protected``."""
        return (
            self.iri == other.iri
            and self.type_mapping == other.type_mapping
            and self.container == other.container
            and self.prefix == other.prefix
            and (
                self.scoped_key == other.scoped_key
                or self.scoped_context == other.scoped_context
            )
        )


class ActiveContext:
    """An immutable processed context with a cache of contexts derived from it."""

    __slots__ = (
        "terms",
        "vocab",
        "previous",
        "_derived",
        "_vocab_iris",
        "_vocab_terms",
    )

    def __init__(
        self,
        terms: dict[str, TermDefinition],
        vocab: str | None,
        previous: "ActiveContext | None",
    ) -> None:
        self.terms = terms
        self.vocab = vocab
        self.previous = previous
        self._derived: dict[tuple[Any, ...], ActiveContext] = {}
        self._vocab_iris: dict[str, str] = {}
        self._vocab_terms: dict[str, str | None] = {}

    def vocab_iri(self, value: str) -> str:
        """Expand ``value`` vocabulary-relative, remembering the result.

        Keys and types repeat across documents, so most calls are a lookup.
        The memory per context is bounded by :data:`MAX_REMEMBERED_IRIS`.
        """
        iri = self._vocab_iris.get(value)
        if iri is None:
            iri = self.expand_iri(value, vocab=True)
            if len(self._vocab_iris) < MAX_REMEMBERED_IRIS:
                self._vocab_iris[value] = iri
        return iri

    def vocab_term(self, value: str) -> str | None:
        """Return ``<iri>`` for a property or type, or None if not absolute."""
        if value in self._vocab_terms:
            return self._vocab_terms[value]
        iri = self.vocab_iri(value)
        term = f"<{iri}>" if is_absolute_iri(iri) else None
        if len(self._vocab_terms) < MAX_REMEMBERED_IRIS:
            self._vocab_terms[value] = term
        return term

    def expand_iri(self, value: str, *, vocab: bool) -> str:
        """Expand a term, compact IRI or IRI, or return ``value`` unchanged.

        ``vocab`` selects vocabulary-relative expansion (terms and ``@vocab``
        apply) over document-relative expansion (only prefixes apply).
        """
        if vocab:
            definition = self.terms.get(value)
            if definition is not None:
                return definition.iri
        if value[:1] == "@":
            # Keywords, and strings shaped like keywords, which JSON-LD
            # ignores: neither is an IRI, so the caller gives up on them.
            return value
        prefix, colon, suffix = value.partition(":")
        if colon:
            if prefix == "_" or suffix.startswith("//"):
                return value
            definition = self.terms.get(prefix)
            if definition is not None and definition.prefix:
                return definition.iri + suffix
            if is_absolute_iri(value):
                return value
        if vocab and self.vocab is not None:
            return self.vocab + value
        return value


_CACHE_SIZE = [0]
INITIAL_CONTEXT = ActiveContext({}, None, None)


def _derive(active: ActiveContext, key: tuple[Any, ...], build: Any) -> ActiveContext:
    cached = active._derived.get(key)
    if cached is not None:
        return cached
    result: ActiveContext = build()
    if _CACHE_SIZE[0] < MAX_CACHED_CONTEXTS:
        active._derived[key] = result
        _CACHE_SIZE[0] += 1
    return result


def apply_document_context(
    active: ActiveContext, local: Any, loader: Any
) -> ActiveContext:
    """Return the context after a document's own ``@context`` entry.

    Only bundled context URLs that ``loader`` serves from the bundle (not an
    extra document given to the loader) are pinned.

    :raises NotPinned: for inline contexts, other URLs or other loaders.
    """
    urls = local if isinstance(local, list) else [local]
    if not isinstance(loader, StaticDocumentLoader):
        raise NotPinned("the document loader is not the bundled one")
    for url in urls:
        if not isinstance(url, str):
            raise NotPinned("an inline context")
        if not loader.serves_bundled(url):
            raise NotPinned(f"context {url!r} is not pinned")
    key = ("urls", tuple(urls))
    return _derive(active, key, lambda: _process(active, urls, False, True))


def apply_scoped_context(
    active: ActiveContext, definition: TermDefinition, *, propagate: bool
) -> ActiveContext:
    """Return the context after a term's scoped context.

    A property-scoped context (``propagate`` true) may override protected
    terms. A type-scoped one (``propagate`` false) may not, and the expansion
    reverts it when it enters a nested node object.
    """
    key = ("scoped", definition.scoped_key, propagate)
    local = definition.scoped_context
    return _derive(
        active,
        key,
        lambda: _process(active, local, propagate, propagate),
    )


def _process(
    active: ActiveContext, local: Any, override_protected: bool, propagate: bool
) -> ActiveContext:
    contexts = local if isinstance(local, list) else [local]
    terms = dict(active.terms)
    vocab = active.vocab
    previous = active.previous
    if not propagate and previous is None:
        previous = active
    for context in contexts:
        if context is None:
            if not override_protected and any(d.protected for d in terms.values()):
                raise NotPinned("a null context over protected terms")
            terms, vocab = {}, None
            continue
        if isinstance(context, str):
            try:
                document = shared_bundled_document(context)
            except ContextNotAllowed as error:
                raise NotPinned(f"context {context!r} is not pinned") from error
            if not isinstance(document, Mapping) or "@context" not in document:
                raise NotPinned(f"context {context!r} has no @context entry")
            inner = _process(
                ActiveContext(terms, vocab, previous),
                document["@context"],
                override_protected,
                True,
            )
            terms, vocab = inner.terms, inner.vocab
            continue
        if not isinstance(context, Mapping):
            raise NotPinned("a context that is neither a URL nor an object")
        terms, vocab = _process_object(context, terms, vocab, override_protected)
    return ActiveContext(terms, vocab, previous)


def _process_object(
    context: Mapping[str, Any],
    terms: dict[str, TermDefinition],
    vocab: str | None,
    override_protected: bool,
) -> tuple[dict[str, TermDefinition], str | None]:
    for keyword in ("@base", "@import", "@language", "@direction", "@propagate"):
        if keyword in context:
            raise NotPinned(f"context keyword {keyword}")
    if "@version" in context and context["@version"] != 1.1:
        raise NotPinned("a @version other than 1.1")
    if "@vocab" in context:
        value = context["@vocab"]
        if value is None:
            vocab = None
        elif isinstance(value, str) and is_absolute_iri(value):
            vocab = value
        else:
            raise NotPinned("a relative or compact @vocab")
    default_protected = context.get("@protected", False)
    if not isinstance(default_protected, bool):
        raise NotPinned("a non-boolean @protected")
    builder = _TermBuilder(context, terms, vocab, default_protected, override_protected)
    for term in context:
        if term not in ("@version", "@vocab", "@protected"):
            builder.define(term)
    return builder.terms, vocab


class _TermBuilder:
    """Creates the term definitions of one local context, dependencies first."""

    def __init__(
        self,
        context: Mapping[str, Any],
        terms: dict[str, TermDefinition],
        vocab: str | None,
        default_protected: bool,
        override_protected: bool,
    ) -> None:
        self.context = context
        self.previous = terms
        self.terms = dict(terms)
        self.vocab = vocab
        self.default_protected = default_protected
        self.override_protected = override_protected
        self.defined: dict[str, bool] = {}

    def define(self, term: str) -> None:
        state = self.defined.get(term)
        if state is True:
            return
        if state is False:
            raise NotPinned(f"a cyclic definition of {term!r}")
        self.defined[term] = False
        if term in KEYWORDS or term == "" or term.startswith("@"):
            raise NotPinned(f"a definition of {term!r}")

        value = self.context[term]
        simple = isinstance(value, str)
        if value is None:
            raise NotPinned(f"term {term!r} defined as null")
        if simple:
            value = {"@id": value}
        if not isinstance(value, Mapping) or not _TERM_KEYS.issuperset(value):
            raise NotPinned(f"term {term!r} uses a feature outside the fast path")

        protected = value.get("@protected", self.default_protected)
        iri = self._term_iri(term, value)
        type_mapping = self._type_mapping(term, value)
        container = self._container(term, value)
        prefix = value.get("@prefix")
        if prefix is None:
            prefix = (
                simple
                and ":" not in term
                and "/" not in term
                and (iri[-1:] in _GEN_DELIMS or iri.startswith("_:"))
            )
        elif not isinstance(prefix, bool):
            raise NotPinned(f"a non-boolean @prefix in {term!r}")
        scoped = value.get("@context", _NO_CONTEXT)
        definition = TermDefinition(
            iri=iri,
            type_mapping=type_mapping,
            container=container,
            scoped_context=scoped,
            scoped_key=None if scoped is _NO_CONTEXT else id(scoped),
            protected=bool(protected),
            prefix=prefix,
        )
        old = self.previous.get(term)
        if old is not None and old.protected and not self.override_protected:
            if not definition.same_as(old):
                raise NotPinned(f"a redefinition of protected term {term!r}")
            definition = old
        self.terms[term] = definition
        self.defined[term] = True

    def _expand(self, value: str) -> str:
        """Expand an IRI inside the context being defined (vocabulary-relative)."""
        if value in self.context and value not in KEYWORDS:
            self.define(value)
        prefix, colon, _ = value.partition(":")
        if colon and prefix in self.context:
            self.define(prefix)
        return ActiveContext(self.terms, self.vocab, None).expand_iri(value, vocab=True)

    def _term_iri(self, term: str, value: Mapping[str, Any]) -> str:
        if "@id" in value and value["@id"] != term:
            raw = value["@id"]
            if not isinstance(raw, str):
                raise NotPinned(f"term {term!r} has a non-string @id")
            if raw in KEYWORDS:
                if raw not in ("@id", "@type"):
                    raise NotPinned(f"term {term!r} aliases {raw}")
                return raw
            if ":" in term or "/" in term:
                raise NotPinned(f"term {term!r} looks like an IRI")
            iri = self._expand(raw)
        elif ":" in term:
            iri = self._expand(term)
        elif self.vocab is not None and "/" not in term:
            iri = self.vocab + term
        else:
            raise NotPinned(f"term {term!r} has no IRI")
        if not (is_absolute_iri(iri) or iri.startswith("_:")):
            raise NotPinned(f"term {term!r} does not expand to an absolute IRI")
        return iri

    def _type_mapping(self, term: str, value: Mapping[str, Any]) -> str | None:
        if "@type" not in value:
            return None
        raw = value["@type"]
        if raw in ("@id", "@vocab", "@json"):
            return str(raw)
        if not isinstance(raw, str) or raw in KEYWORDS:
            raise NotPinned(f"term {term!r} has @type {raw!r}")
        mapped = self._expand(raw)
        if not is_absolute_iri(mapped):
            raise NotPinned(f"term {term!r} has a relative @type")
        return mapped

    def _container(self, term: str, value: Mapping[str, Any]) -> frozenset[str]:
        raw = value.get("@container", [])
        container = frozenset(raw if isinstance(raw, list) else [raw])
        if container in _CONTAINERS or container in _GRAPH_CONTAINERS:
            return container
        raise NotPinned(f"term {term!r} has @container {raw!r}")
