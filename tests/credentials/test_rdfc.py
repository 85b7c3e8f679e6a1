import hashlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.errors import MalformedDocument
from credentials.rdfc import (
    MAX_N_DEGREE_CALLS,
    Quad,
    canonicalize_quads,
    escape_literal,
    literal,
)

EX = "http://example.org/"
KNOWS = f"<{EX}knows>"
NAME = f"<{EX}name>"


def test_escape_literal_control_characters() -> None:
    # Canonical N-Quads: ECHAR for these seven, UCHAR with upper-case hex for
    # the rest of U+0000-U+001F and U+007F, everything else as is.
    expected = {
        "\b": "\\b",
        "\t": "\\t",
        "\n": "\\n",
        "\f": "\\f",
        "\r": "\\r",
        '"': '\\"',
        "\\": "\\\\",
        "\x00": "\\u0000",
        "\x01": "\\u0001",
        "\x0b": "\\u000B",
        "\x1f": "\\u001F",
        "\x7f": "\\u007F",
        "\x80": "\x80",
        "\u2028": "\u2028",
        "\U0001f600": "\U0001f600",
    }
    for character, escaped in expected.items():
        assert escape_literal(f"a{character}b") == f"a{escaped}b", repr(character)


def test_literal_forms() -> None:
    assert literal("x") == '"x"'
    assert literal("x", language="en-gb") == '"x"@en-gb'
    assert literal("5", f"{EX}type") == f'"5"^^<{EX}type>'


def test_canonical_labels_follow_first_degree_hashes() -> None:
    # Two blank nodes with different names. The one whose first-degree hash
    # sorts first becomes _:c14n0.
    quads: list[Quad] = [
        ("_:x", NAME, '"Alice"', ""),
        ("_:y", NAME, '"Bob"', ""),
    ]
    hashes = {
        label: hashlib.sha256(f'_:a {NAME} "{name}" .\n'.encode()).hexdigest()
        for label, name in (("_:x", "Alice"), ("_:y", "Bob"))
    }
    first = min(hashes, key=hashes.__getitem__)
    expected_names = {"_:x": "Alice", "_:y": "Bob"}
    lines = canonicalize_quads(quads).splitlines()
    assert f'_:c14n0 {NAME} "{expected_names[first]}" .' in lines


def test_repeated_quad_kept() -> None:
    # rdf-canonize 5.0.0 hashes and writes a repeated quad twice, and JSON-LD
    # processors produce one for each repeated empty list.
    line = f'_:c14n0 {NAME} "Alice" .\n'
    quad: Quad = ("_:x", NAME, '"Alice"', "")
    assert canonicalize_quads([quad, quad]) == line + line


def test_lines_sorted_by_code_point() -> None:
    # U+E000 sorts before U+10000 by code point, but after it in UTF-16.
    quads: list[Quad] = [
        (f"<{EX}s>", NAME, '"\U00010000"', ""),
        (f"<{EX}s>", NAME, '"\ue000"', ""),
    ]
    lines = canonicalize_quads(quads).splitlines()
    assert lines == [f'<{EX}s> {NAME} "\ue000" .', f'<{EX}s> {NAME} "\U00010000" .']


def test_named_graph_written_last() -> None:
    quads: list[Quad] = [(f"<{EX}s>", NAME, '"x"', f"<{EX}g>")]
    assert canonicalize_quads(quads) == f'<{EX}s> {NAME} "x" <{EX}g> .\n'


def ring(labels: list[str]) -> list[Quad]:
    """Return a cycle of blank nodes, all alike until the N-degree hash."""
    return [
        (labels[index], KNOWS, labels[(index + 1) % len(labels)], "")
        for index in range(len(labels))
    ]


def test_symmetric_ring_is_canonical() -> None:
    # The same output as rdf-canonize 5.0.0 with maxWorkFactor Infinity (its
    # default bound rejects this ring).
    canonical = canonicalize_quads(ring(["_:a", "_:b", "_:c"]))
    assert canonical == (
        f"_:c14n0 {KNOWS} _:c14n2 .\n"
        f"_:c14n1 {KNOWS} _:c14n0 .\n"
        f"_:c14n2 {KNOWS} _:c14n1 .\n"
    )


@settings(max_examples=60, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(min_value=2, max_value=6))
def test_labels_and_order_do_not_matter(rng: random.Random, size: int) -> None:
    # Two rings joined by a shared literal and a named graph of blank nodes:
    # relabelling the blank nodes or shuffling the quads changes nothing.
    labels = [f"_:n{index}" for index in range(size * 2)]
    quads = ring(labels[:size]) + ring(labels[size:])
    quads.append((labels[0], NAME, '"shared"', labels[size]))
    renamed = {label: f"_:r{rng.getrandbits(32)}x{i}" for i, label in enumerate(labels)}
    shuffled = [
        tuple(renamed.get(term, term) for term in quad)  # type: ignore[misc]
        for quad in quads
    ]
    rng.shuffle(shuffled)
    assert canonicalize_quads(shuffled) == canonicalize_quads(quads)


def test_poison_graph_rejected() -> None:
    # A clique of blank nodes linked every way makes the N-degree hash try
    # every permutation; the bound stops it with an error.
    labels = [f"_:n{index}" for index in range(9)]
    quads: list[Quad] = [
        (subject, KNOWS, obj, "")
        for subject in labels
        for obj in labels
        if subject != obj
    ]
    with pytest.raises(MalformedDocument, match=str(MAX_N_DEGREE_CALLS)):
        canonicalize_quads(quads)
