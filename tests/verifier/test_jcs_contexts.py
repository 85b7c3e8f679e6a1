"""Contexts and nesting of eddsa-jcs-2022 documents, which verification
does not expand: every context URL at any depth must still be bundled, and
a credential inside a jcs presentation is checked by its own suite."""

import copy
from datetime import UTC, date, datetime
from typing import Any

import pytest

from verifier import verify_credential, verify_presentation

from .support import issuer_key, sign_without_safe_mode, training_credential

NOW = datetime(2026, 3, 31, tzinfo=UTC)
V2 = "https://www.w3.org/ns/credentials/v2"
UNBUNDLED = "https://contexts.example/unbundled"
CHALLENGE = "challenge-0001"
DOMAIN = "https://hr.colne-estuary.example"
ISSUER = issuer_key(1)
HOLDER = issuer_key(2)


def credential(subject: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": [V2],
        "type": ["VerifiableCredential"],
        "issuer": ISSUER.did,
        "credentialSubject": {"id": HOLDER.controller, **subject},
    }


def presentation(credentials: list[Any], suite: str = "eddsa-jcs-2022") -> dict:
    unsigned = {
        "@context": [V2],
        "type": ["VerifiablePresentation"],
        "holder": HOLDER.controller,
        "verifiableCredential": credentials,
    }
    return sign_without_safe_mode(
        HOLDER,
        unsigned,
        suite,
        proofPurpose="authentication",
        challenge=CHALLENGE,
        domain=DOMAIN,
    )


def failed(result) -> dict[str, str]:
    return {check.id: check.message for check in result.checks if not check.passed}


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "subject",
    [
        {"@context": UNBUNDLED, "claim": 1},
        {"part": [{"inner": {"@context": [UNBUNDLED]}}]},
    ],
    ids=["subject", "deeper"],
)
def test_nested_unbundled_context_named(subject):
    result = verify_credential(
        sign_without_safe_mode(ISSUER, credential(subject)), now=NOW
    )

    assert not result.verified
    assert repr(UNBUNDLED) in failed(result)["contexts-allowed"]


def test_scoped_unbundled_context_named():
    document = credential({"claim": 1})
    document["@context"] = [
        V2,
        {"claim": {"@id": "https://terms.example/claim", "@context": UNBUNDLED}},
    ]

    result = verify_credential(sign_without_safe_mode(ISSUER, document), now=NOW)

    assert not result.verified
    assert repr(UNBUNDLED) in failed(result)["contexts-allowed"]


def test_unbundled_context_in_proof_named():
    document = sign_without_safe_mode(ISSUER, credential({}))
    document["proof"]["@context"] = [V2, UNBUNDLED]

    result = verify_credential(document, now=NOW)

    assert repr(UNBUNDLED) in failed(result)["contexts-allowed"]


@pytest.mark.parametrize("where", ["subject", "proof"])
def test_presentation_names_credential_context(where):
    inner = training_credential(ISSUER, HOLDER.controller, "FS", date(2025, 6, 1))
    target = inner["credentialSubject"] if where == "subject" else inner["proof"]
    target["@context"] = UNBUNDLED

    result = verify_presentation(
        presentation([inner]), challenge=CHALLENGE, domain=DOMAIN, now=NOW
    )

    assert not result.verified
    assert repr(UNBUNDLED) in failed(result)["contexts-allowed"]
    assert repr(UNBUNDLED) in failed(result.credentials[0])["contexts-allowed"]


def test_jcs_presentation_checks_rdfc_credential_terms():
    inner = sign_without_safe_mode(
        ISSUER, credential({"favouriteColour": "blue"}), "eddsa-rdfc-2022"
    )

    result = verify_presentation(
        presentation([inner]), challenge=CHALLENGE, domain=DOMAIN, now=NOW
    )

    assert result.check("proof").passed
    assert not result.verified
    assert "favouriteColour" in failed(result.credentials[0])["contexts-allowed"]


def test_deep_nesting_in_proof_fails():
    document = sign_without_safe_mode(ISSUER, credential({}))
    document["proof"]["extra"] = nested(40)

    result = verify_credential(document, now=NOW)

    assert "levels deep" in failed(result)["well-formed"]


def test_deep_nesting_in_presented_credential_fails():
    inner = sign_without_safe_mode(ISSUER, credential({"extra": nested(40)}))

    result = verify_presentation(
        presentation([inner]), challenge=CHALLENGE, domain=DOMAIN, now=NOW
    )

    assert "levels deep" in failed(result)["well-formed"]


def test_lone_surrogate_in_key_fails():
    document = copy.deepcopy(sign_without_safe_mode(ISSUER, credential({})))
    document["credentialSubject"]["\ud800claim"] = 1

    result = verify_credential(document, now=NOW)

    assert "lone surrogate" in failed(result)["well-formed"]


class ShownList(list[Any]):
    """A list that iterates over other items than it stores, as a view
    over stored data might. rfc8785 writes what iteration yields."""

    def __iter__(self) -> Any:
        return iter(["shown"])


class ShownDict(dict[str, Any]):
    """A dict whose items differ from what it stores."""

    def __iter__(self) -> Any:
        return iter(["shown"])

    def __getitem__(self, key: str) -> Any:
        return "shown"

    def values(self) -> Any:
        return ["shown"]

    def items(self) -> Any:
        return [("shown", "shown")]

    def keys(self) -> Any:
        return ["shown"]


@pytest.mark.parametrize(
    "claim",
    [ShownList([1.5, datetime(2026, 1, 1)]), ShownDict(stored=1.5)],
    ids=["list", "dict"],
)
def test_container_subclass_verifies_as_signed(claim):
    document = sign_without_safe_mode(ISSUER, credential({"claim": claim}))

    result = verify_credential(document, now=NOW)

    assert result.check("proof").passed, result.check("proof").message


def test_presentation_subclass_verifies_as_signed():
    unsigned = {
        "@context": [V2],
        "type": ["VerifiablePresentation"],
        "holder": HOLDER.controller,
        "verifiableCredential": [],
        "note": ShownList([1.5]),
    }
    document = sign_without_safe_mode(
        HOLDER,
        unsigned,
        proofPurpose="authentication",
        challenge=CHALLENGE,
        domain=DOMAIN,
    )

    result = verify_presentation(document, challenge=CHALLENGE, domain=DOMAIN, now=NOW)

    assert result.check("proof").passed, result.check("proof").message


def test_key_period_message_keeps_signed_stamp():
    created = "2026-01-01T00:00:30+01:00"
    document = sign_without_safe_mode(ISSUER, credential({}), created=created)

    check = verify_credential(document, now=NOW).check("key-valid-at-issuance")

    assert check.passed, check.message
    assert "31 December 2025 at 23:00 UTC" in check.message
    assert created in check.message
