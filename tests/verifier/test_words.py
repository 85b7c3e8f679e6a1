"""Credential values in the words HR reads."""

import pytest

from verifier.words import purpose_words, spoken_day, spoken_duration, spoken_instant


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2029-11-04T00:00:00Z", "4 November 2029"),
        ("2029-11-04T14:05:00Z", "4 November 2029 at 14:05 UTC"),
        ("2029-11-04T14:05:00+01:00", "4 November 2029 at 13:05 UTC"),
        ("next Tuesday", "next Tuesday"),
    ],
)
def test_spoken_instant(text, expected):
    assert spoken_instant(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P3Y", "3 years"),
        ("P1Y", "1 year"),
        ("P1Y6M", "1 year 6 months"),
        ("P2W", "2 weeks"),
        ("P", "P"),
        ("PT1H", "PT1H"),
        ("three years", "three years"),
    ],
)
def test_spoken_duration(text, expected):
    assert spoken_duration(text) == expected


def test_spoken_day():
    assert spoken_day("2026-11-04") == "4 November 2026"
    assert spoken_day("04/11/2026") == "04/11/2026"


def test_purpose_words():
    assert purpose_words("assertionMethod") == "signing credentials (assertionMethod)"
    assert purpose_words("capabilityDelegation") == "capabilityDelegation"
