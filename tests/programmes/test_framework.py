"""The bundled graduate leadership framework and the framework checks."""

import copy

import pytest

from programmes.errors import FrameworkInvalid
from programmes.framework import bundled_framework, read_framework
from workflows.definitions import compile_definition

NINE_DIMENSIONS = {
    "inspiring-shared-purpose",
    "leading-with-care",
    "evaluating-information",
    "connecting-our-service",
    "sharing-the-vision",
    "engaging-the-team",
    "holding-to-account",
    "developing-capability",
    "influencing-for-results",
}


def test_leadership_competencies_cover_nine_dimensions() -> None:
    framework = bundled_framework()

    leadership = [c for c in framework.competencies.values() if c.domain != "clinical"]

    assert set(framework.dimensions) == NINE_DIMENSIONS
    assert {c.dimension for c in leadership} == NINE_DIMENSIONS
    assert framework.ratings == ("essential", "proficient", "strong", "exemplary")


def test_variants_share_common_competencies() -> None:
    framework = bundled_framework()

    sets = [
        {c.id for c in framework.competencies_for(variant)}
        for variant in ("nursing", "midwifery", "social-care")
    ]
    common = sets[0] & sets[1] & sets[2]

    assert len(common) == 11
    assert all(len(items - common) == 2 for items in sets)


def test_managerial_rule_needs_manager_and_lead() -> None:
    framework = bundled_framework()

    rule = framework.rule_for(framework.competencies["man-change"])

    assert rule.signers == ("line-manager", "programme-lead")
    assert rule.min_signers == 2


def _document() -> dict:
    return copy.deepcopy(bundled_framework().definition.document)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["programme"]["signOffRules"][0].update(condition="roles +"),
            "condition",
        ),
        (
            lambda d: d["programme"]["competencies"][0].update(evidence=["video"]),
            "no evidence type 'video'",
        ),
        (
            lambda d: d["programme"]["competencies"][0].update(variants=["dentistry"]),
            "no variant 'dentistry'",
        ),
        (
            lambda d: d["programme"]["competencies"][8].update(expectedRating="good"),
            "'good' is not one of the ratings",
        ),
        (
            lambda d: d["programme"]["signOffRules"][0].update(namedOnly=["learner"]),
            "not one of its signers",
        ),
        (lambda d: d.pop("programme"), "programme: is missing"),
    ],
)
def test_framework_errors_named(change, message) -> None:  # type: ignore[no-untyped-def]
    document = _document()
    change(document)

    with pytest.raises(FrameworkInvalid, match=message):
        read_framework(compile_definition(document))
