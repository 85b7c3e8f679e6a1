"""Differential tests of the pinned-context fast path against pyld.

The fast path (``credentials.jsonld_rdf``) and the general path (pyld's
expansion and conversion to RDF) must give the same RDF for every document
the fast path accepts, and both go through the same RDFC-1.0 code. Where
pyld 3.3's own canonicalization departs from RDFC-1.0, a test below shows
the case. tests/interop/test_js_canonicalization.py checks the same
results against the JavaScript rdf-canonize.
"""

import json
import random
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from pyld import jsonld

from credentials import active_context
from credentials.active_context import NotPinned
from credentials.canonicalization import (
    canonicalize_jcs,
    canonicalize_rdfc,
    check_safe_mode,
    general_quads,
)
from credentials.document_loader import DEFAULT_LOADER, StaticDocumentLoader
from credentials.errors import ContextNotAllowed, MalformedDocument, UndefinedTerm
from credentials.jsonld_rdf import document_to_quads
from credentials.rdfc import canonicalize_quads
from issuer.subjects import subject_by_code
from issuer.training import build_training_credential
from tests.credentials.random_documents import (
    CREDENTIALS_V2,
    DATA_INTEGRITY_V2,
    STATUS_LIST_V1,
    UNDEFINED_TERMS_V2,
    random_document,
)

VECTORS_DIR = Path(__file__).resolve().parents[1] / "vectors"
XSD_DOUBLE = "http://www.w3.org/2001/XMLSchema#double"


def pyld_nquads(document: dict[str, Any], loader: Any = DEFAULT_LOADER) -> str:
    """Return pyld 3.3's own canonical N-Quads (URDNA2015) of a document."""
    nquads: str = jsonld.normalize(
        document,
        {
            "algorithm": "URDNA2015",
            "format": "application/n-quads",
            "documentLoader": loader,
        },
    )
    return nquads


def fast_nquads(document: dict[str, Any]) -> str:
    return canonicalize_quads(document_to_quads(document, DEFAULT_LOADER))


def general_nquads(document: dict[str, Any], loader: Any = None) -> str:
    return canonicalize_quads(general_quads(document, loader))


def vector_documents() -> list[tuple[str, dict[str, Any]]]:
    """Return every JSON-LD document in tests/vectors, and each proof's config.

    A signed document gives its unsecured form and its proof configuration
    read with the document's contexts, the two inputs the rdfc suite hashes.
    """
    documents = []
    for path in sorted(VECTORS_DIR.rglob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or "@context" not in document:
            continue
        name = str(path.relative_to(VECTORS_DIR))
        unsecured = {key: value for key, value in document.items() if key != "proof"}
        documents.append((name, unsecured))
        proof = document.get("proof")
        if isinstance(proof, dict):
            config = {key: value for key, value in proof.items() if key != "proofValue"}
            config["@context"] = document["@context"]
            documents.append((f"{name} proof", config))
    return documents


def training_credential() -> dict[str, Any]:
    return build_training_credential(
        credential_id="urn:uuid:6b1d8f0e-2c4a-4e8b-9d3f-7a5c1e0b9d24",
        issuer_id="did:key:z6Mkq8qP8Yg87hsfL5FXwJ6DQTxJS3Di8v7zqdgJkr57fYaJ",
        holder_id="did:key:z6MkvMm8Hkng88Jhc9ae6am527uB1rx6stLr3iBkyC4Do5re",
        display_name="Zoë Ó Briain",
        subject=subject_by_code("FS"),
        completed=date(2025, 3, 14),
        cstf_aligned=True,
    )


def test_vectors_found() -> None:
    names = [name for name, _ in vector_documents()]
    assert "peer/training-signed-rdfc.json" in names
    assert "peer/presentation-signed.json proof" in names


@pytest.mark.parametrize(("name", "document"), vector_documents())
def test_vector_matches_pyld(name: str, document: dict[str, Any]) -> None:
    assert fast_nquads(document) == pyld_nquads(document), name


def test_training_credential_matches_pyld() -> None:
    credential = training_credential()
    assert fast_nquads(credential) == pyld_nquads(credential)


@settings(max_examples=150, deadline=None)
@given(st.randoms(use_true_random=False))
def test_fast_path_matches_general_path(rng: random.Random) -> None:
    document = random_document(rng)
    assert fast_nquads(document) == general_nquads(document), json.dumps(document)


def has_self_loop(document: dict[str, Any]) -> bool:
    """Return whether a blank node refers to itself.

    pyld 3.3 labels some such datasets differently from RDFC-1.0 (see
    test_self_reference_unlike_pyld).
    """
    return any(
        subject == obj and subject.startswith("_:")
        for subject, _, obj, _ in document_to_quads(document, DEFAULT_LOADER)
    )


@settings(max_examples=100, deadline=None)
@given(st.randoms(use_true_random=False))
def test_fast_path_matches_pyld(rng: random.Random) -> None:
    # Without the control characters pyld leaves unescaped.
    document = random_document(rng, controls=False)
    if has_self_loop(document):
        return
    assert fast_nquads(document) == pyld_nquads(document), json.dumps(document)


def test_fast_path_takes_random_documents() -> None:
    # Every generated document uses bundled contexts only; a fast path that
    # gave up on them would make the comparison above vacuous.
    rng = random.Random(20260105)
    rejected = []
    for _ in range(200):
        document = random_document(rng)
        try:
            document_to_quads(document, DEFAULT_LOADER)
        except NotPinned as reason:
            rejected.append(str(reason))
    assert rejected == []


def credential_with(subject: dict[str, Any], *contexts: Any) -> dict[str, Any]:
    return {
        "@context": [CREDENTIALS_V2, *contexts],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": subject,
    }


def test_control_characters_escaped_unlike_pyld() -> None:
    # RDFC-1.0 writes U+0001 as \u0001 in canonical N-Quads; pyld 3.3 writes
    # the raw character.
    document = credential_with({"claimName": "a\x01b\x7f"}, UNDEFINED_TERMS_V2)
    ours = canonicalize_rdfc(document)
    assert '"a\\u0001b\\u007F"' in ours
    assert '"a\x01b\x7f"' in pyld_nquads(document)
    assert general_nquads(document) == ours


# A blank node that refers to itself inside a named graph. The expected
# output is rdf-canonize 5.0.0's (jsonld.canonize, RDFC-1.0); pyld 3.3 labels
# the graph differently.
SELF_REFERENCE = {
    "@context": [CREDENTIALS_V2],
    "type": ["VerifiablePresentation"],
    "verifiableCredential": [
        credential_with({"id": "_:n0", "claimA": {"id": "_:n0"}}, UNDEFINED_TERMS_V2)
    ],
}
UNDEFINED = "https://www.w3.org/ns/credentials/undefined-term#"
CRED = "https://www.w3.org/2018/credentials#"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
SELF_REFERENCE_NQUADS = (
    f"_:c14n0 <{UNDEFINED}claimA> _:c14n0 _:c14n1 .\n"
    f"_:c14n2 {RDF_TYPE} <{CRED}VerifiablePresentation> .\n"
    f"_:c14n2 <{CRED}verifiableCredential> _:c14n1 .\n"
    f"_:c14n3 {RDF_TYPE} <{CRED}VerifiableCredential> _:c14n1 .\n"
    f"_:c14n3 <{CRED}credentialSubject> _:c14n0 _:c14n1 .\n"
    f"_:c14n3 <{CRED}issuer> <did:example:issuer> _:c14n1 .\n"
)


def test_self_reference_unlike_pyld() -> None:
    assert canonicalize_rdfc(SELF_REFERENCE) == SELF_REFERENCE_NQUADS
    assert general_nquads(SELF_REFERENCE) == SELF_REFERENCE_NQUADS
    assert pyld_nquads(SELF_REFERENCE) != SELF_REFERENCE_NQUADS


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1.50", "1.5E0"), ("2", "2.0E0"), ("-.5e3", "-5.0E2"), ("1e-7", "1.0E-7")],
)
def test_string_double_canonicalized(text: str, expected: str) -> None:
    # pyld and jsonld.js both rewrite a decimal string typed xsd:double in
    # the canonical double form, as they do numbers.
    document = credential_with(
        {"claimSize": {"@value": text, "@type": XSD_DOUBLE}}, UNDEFINED_TERMS_V2
    )
    assert f'"{expected}"^^<{XSD_DOUBLE}>' in canonicalize_rdfc(document)
    assert canonicalize_rdfc(document) == pyld_nquads(document)


def test_other_string_double_takes_general_path() -> None:
    document = credential_with(
        {"claimSize": {"@value": "about 3", "@type": XSD_DOUBLE}}, UNDEFINED_TERMS_V2
    )
    with pytest.raises(NotPinned, match="not a decimal number"):
        document_to_quads(document, DEFAULT_LOADER)
    assert f'"about 3"^^<{XSD_DOUBLE}>' in canonicalize_rdfc(document)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, '"1"^^<http://www.w3.org/2001/XMLSchema#integer>'),
        (2.0, '"2"^^<http://www.w3.org/2001/XMLSchema#integer>'),
        (-0.0, '"0"^^<http://www.w3.org/2001/XMLSchema#integer>'),
        (1.5, f'"1.5E0"^^<{XSD_DOUBLE}>'),
        (0.1, f'"1.0E-1"^^<{XSD_DOUBLE}>'),
        (1e-7, f'"1.0E-7"^^<{XSD_DOUBLE}>'),
        (10**21, f'"1.0E21"^^<{XSD_DOUBLE}>'),
        (123456789.125, f'"1.23456789125E8"^^<{XSD_DOUBLE}>'),
        (True, '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>'),
    ],
)
def test_number_literals_match_pyld(value: Any, expected: str) -> None:
    document = credential_with({"claimValue": value}, UNDEFINED_TERMS_V2)
    assert expected in canonicalize_rdfc(document)
    assert canonicalize_rdfc(document) == pyld_nquads(document)


def test_repeated_empty_lists_match_pyld() -> None:
    # Two empty lists under one property are two list objects, so JSON-LD
    # processors write the rdf:nil quad twice; equal literals are merged.
    document = credential_with(
        {"claimA": [{"@list": []}, {"@list": []}, "x", "x"]}, UNDEFINED_TERMS_V2
    )
    nil = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#nil>"
    ours = canonicalize_rdfc(document)
    assert ours.count(nil) == 2
    assert ours.count('"x"') == 1
    assert ours == pyld_nquads(document)


XSD = "http://www.w3.org/2001/XMLSchema#"

# Values of one property that the JSON-LD node map merges, or keeps apart
# although they give the same RDF literal, and the quads each pair makes.
NODE_MAP_CASES = [
    ([True, 1], 2),
    ([1, 1.0], 1),
    ([0, -0.0], 1),
    ([0, {"@value": 0, "@type": XSD + "integer"}], 2),
    ([True, {"@value": "true", "@type": XSD + "boolean"}], 2),
    ([{"@value": "x", "@language": "EN"}, {"@value": "x", "@language": "en"}], 1),
    (["x", {"@value": "x"}], 1),
    (["x", {"@value": "x", "@type": XSD + "string"}], 2),
    ([1.5, {"@value": 1.5, "@type": XSD_DOUBLE}], 2),
]


def node_map_document(values: list[Any]) -> dict[str, Any]:
    return credential_with(
        {"claimA": values, "claimB": {"claimC": "y"}}, UNDEFINED_TERMS_V2
    )


@pytest.mark.parametrize(("values", "quads"), NODE_MAP_CASES)
def test_node_map_merging_matches_pyld(values: list[Any], quads: int) -> None:
    document = node_map_document(values)
    ours = canonicalize_rdfc(document)
    assert ours.count("undefined-term#claimA>") == quads
    assert ours == pyld_nquads(document)


def test_inline_context_takes_general_path() -> None:
    document = credential_with(
        {"favourite": "tea"}, {"favourite": "https://example.org/vocab#favourite"}
    )
    with pytest.raises(NotPinned, match="inline context"):
        document_to_quads(document, DEFAULT_LOADER)
    assert canonicalize_rdfc(document) == pyld_nquads(document)
    assert "<https://example.org/vocab#favourite>" in canonicalize_rdfc(document)


def test_extra_context_takes_general_path() -> None:
    # Only bundled contexts are pinned; a document the loader was given
    # (a test context, a cached did:web document) goes through pyld.
    url = "https://example.org/contexts/extra/v1"
    extra = {"@context": {"subjectCode": "https://example.org/other#subjectCode"}}
    loader = StaticDocumentLoader(extra={url: extra})
    document = credential_with({"subjectCode": "FS"}, url)
    with pytest.raises(NotPinned, match="not pinned"):
        document_to_quads(document, loader)
    ours = canonicalize_rdfc(document, loader)
    assert "<https://example.org/other#subjectCode>" in ours
    assert ours == pyld_nquads(document, loader)


def test_unknown_context_rejected() -> None:
    url = "https://example.org/contexts/unknown/v1"
    document = credential_with({"claimA": "x"}, url)
    with pytest.raises(ContextNotAllowed, match="unknown/v1"):
        canonicalize_rdfc(document)
    with pytest.raises(ContextNotAllowed, match="unknown/v1"):
        check_safe_mode(document)


@pytest.mark.parametrize(
    ("subject", "named"),
    [
        ({"undefinedClaim": 1}, "undefinedClaim"),
        ({"type": "LocalType"}, "LocalType"),
        ({"id": "relative/path"}, "relative/path"),
        ({"@unknown": 1}, "starts with '@'"),
    ],
)
def test_safe_mode_holds_for_pinned_contexts(
    subject: dict[str, Any], named: str
) -> None:
    document = credential_with(subject)
    with pytest.raises(NotPinned):
        document_to_quads(document, DEFAULT_LOADER)
    with pytest.raises(UndefinedTerm, match=named):
        canonicalize_rdfc(document)
    with pytest.raises(UndefinedTerm, match=named):
        check_safe_mode(document)


def test_keyword_shaped_key_rejected_under_vocab() -> None:
    # JSON-LD ignores a key shaped like a keyword even where @vocab would
    # turn any other key into an IRI, so the key would be left unsigned.
    document = credential_with({"@unknown": 1}, UNDEFINED_TERMS_V2)
    with pytest.raises(NotPinned):
        document_to_quads(document, DEFAULT_LOADER)
    with pytest.raises(UndefinedTerm, match="starts with '@'"):
        canonicalize_rdfc(document)


def test_protected_term_redefinition_rejected() -> None:
    document = credential_with(
        {"claimA": "x"},
        UNDEFINED_TERMS_V2,
        {"VerifiableCredential": "https://example.org/NotACredential"},
    )
    with pytest.raises(MalformedDocument, match="protected"):
        canonicalize_rdfc(document)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_jcs_matches_rfc8785(value: Any) -> None:
    try:
        expected = rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError):
        with pytest.raises(MalformedDocument):
            canonicalize_jcs(value)
        return
    assert canonicalize_jcs(value) == expected


# Characters where JSON escaping or UTF-16 key order could go wrong: the
# controls, DEL and the JavaScript line separators, characters just below
# and beyond U+FFFF, and a lone surrogate, which neither JCS path encodes.
_JCS_CHARACTERS = st.characters() | st.sampled_from(
    ["\x00", "\x1f", "\x7f", "\u2028", "\u2029", "\ue000", "\uffff"]
    + ["\U00010000", "\U0001f600", "\ud800", '"', "\\"]
)
# Keys from a small alphabet, so that one object often has keys that sort
# differently in UTF-16 and in code point order.
_JCS_KEYS = st.text(st.sampled_from("a\ue000\uffff\U00010000\U0001f600"), max_size=3)
plain_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)
    | st.text(_JCS_CHARACTERS, max_size=6),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            _JCS_KEYS | st.text(_JCS_CHARACTERS, max_size=4), children, max_size=4
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(plain_json_values)
def test_jcs_plain_json_matches_rfc8785(value: Any) -> None:
    try:
        expected = rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError):
        with pytest.raises(MalformedDocument):
            canonicalize_jcs(value, plain_json=True)
        return
    assert canonicalize_jcs(value, plain_json=True) == expected


@pytest.mark.parametrize(
    "keys",
    [
        # UTF-16 puts the emoji (D83D DE00) before U+E000; code points do not.
        ["\ue000", "\U0001f600"],
        ["\uff21", "\U00010000", "a"],
        # Text below U+0100 sorts the same both ways.
        ["Zoë", "Ó", "z"],
    ],
)
def test_jcs_sorts_keys_by_utf16_code_units(keys: list[str]) -> None:
    value = {key: index for index, key in enumerate(keys)}
    assert canonicalize_jcs(value) == rfc8785.dumps(value)


@pytest.mark.parametrize("number", [2**53, -(2**53), 2**53 + 1])
def test_jcs_rejects_integers_beyond_safe_range(number: int) -> None:
    # rfc8785 accepts integers of magnitude up to 2**53 - 1 only.
    with pytest.raises(MalformedDocument, match="larger number as a string"):
        canonicalize_jcs({"count": number})


@pytest.mark.parametrize("number", [2**53 - 1, -(2**53 - 1)])
def test_jcs_writes_largest_safe_integers(number: int) -> None:
    assert canonicalize_jcs([number]) == rfc8785.dumps([number])


def test_context_cache_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    # Past the bound, contexts are still processed correctly but not kept.
    limit = active_context._CACHE_SIZE[0] + 1
    monkeypatch.setattr(active_context, "MAX_CACHED_CONTEXTS", limit)
    orders = [
        [UNDEFINED_TERMS_V2, STATUS_LIST_V1, DATA_INTEGRITY_V2],
        [DATA_INTEGRITY_V2, STATUS_LIST_V1, UNDEFINED_TERMS_V2],
        [STATUS_LIST_V1, DATA_INTEGRITY_V2, UNDEFINED_TERMS_V2],
    ]
    for contexts in orders:
        document = credential_with({"claimA": "x"}, *contexts)
        assert fast_nquads(document) == pyld_nquads(document)
    assert active_context._CACHE_SIZE[0] == limit


def test_remembered_iris_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(active_context, "MAX_REMEMBERED_IRIS", 8)
    subject = {f"claim{index}": index for index in range(40)}
    contexts = [STATUS_LIST_V1, DATA_INTEGRITY_V2, UNDEFINED_TERMS_V2]
    document = credential_with(subject, *contexts)
    context = active_context.apply_document_context(
        active_context.INITIAL_CONTEXT, document["@context"], DEFAULT_LOADER
    )
    assert len(context._vocab_iris) == 0
    assert fast_nquads(document) == pyld_nquads(document)
    assert len(context._vocab_iris) == 8
    assert len(context._vocab_terms) == 8
