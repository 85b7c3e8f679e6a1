import unicodedata

import pytest

from passport.demo import _email_for


@pytest.mark.parametrize(
    ("name", "email"),
    [
        ("Chloé STUB", "chloe.stub@nhs-staff.example"),
        ("Zoë SAMPLE", "zoe.sample@nhs-staff.example"),
        ("Siân DEMO", "sian.demo@nhs-staff.example"),
        ("Dónal O'MOCK", "donal.omock@nhs-staff.example"),
        ("Renée TESTER-FIXTURE", "renee.tester.fixture@nhs-staff.example"),
        ("Dr Robin  EXAMPLE", "dr.robin.example@nhs-staff.example"),
    ],
)
def test_email_transliterates(name, email):
    assert _email_for(name) == email


def test_email_same_for_decomposed_name():
    composed = "Seán PLACEHOLDER"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert (
        _email_for(decomposed)
        == _email_for(composed)
        == ("sean.placeholder@nhs-staff.example")
    )
