import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld

from issuer.subjects import Subject, load_subjects, subject_by_code
from issuer.training import TRAINING_CONTEXT_URL, build_training_credential

CONTEXTS_DIR = Path(__file__).resolve().parents[2] / "credentials" / "contexts"
CONTEXT_FILES = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": (
        "ob-v3p0-context-3.0.3.json"
    ),
    TRAINING_CONTEXT_URL: "staff-passport-training-v1.jsonld",
}
VOCAB = "https://staff-passport.example/vocab#"
XSD = "http://www.w3.org/2001/XMLSchema#"

ISSUER_DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
HOLDER_DID = "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"
CREDENTIAL_ID = "urn:uuid:0c3b5d7e-8f4a-4b2c-9d1e-6a7b8c9d0e1f"


def static_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Serve the bundled contexts and fail on every other URL."""
    if url not in CONTEXT_FILES:
        raise jsonld.JsonLdError(
            f"Context {url!r} is not bundled.", "jsonld.LoadDocumentError"
        )
    document = json.loads((CONTEXTS_DIR / CONTEXT_FILES[url]).read_text("utf-8"))
    return {
        "contextUrl": None,
        "documentUrl": url,
        "document": document,
        "tag": "static",
    }


def build(
    subject: Subject | None = None,
    completed: date = date(2025, 2, 14),
    display_name: str = "Robin EXAMPLE",
    cstf_aligned: bool = True,
    **overrides: Any,
) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "credential_id": CREDENTIAL_ID,
        "issuer_id": ISSUER_DID,
        "holder_id": HOLDER_DID,
        "display_name": display_name,
        "subject": subject or subject_by_code("FS"),
        "completed": completed,
        "cstf_aligned": cstf_aligned,
    }
    arguments.update(overrides)
    return build_training_credential(**arguments)


def expand(document: dict[str, Any]) -> tuple[list[Any], list[str | None]]:
    dropped: list[str | None] = []
    processor = jsonld.JsonLdProcessor(on_property_dropped=dropped.append)
    expanded = processor.expand(document, {"documentLoader": static_loader})
    return expanded, dropped


def relative_iris(node: Any) -> list[str]:
    """Return every @id or @type value in expanded JSON-LD that is not absolute."""
    found: list[str] = []
    if isinstance(node, list):
        for item in node:
            found.extend(relative_iris(item))
    elif isinstance(node, dict):
        for key, value in node.items():
            if key in ("@id", "@type") and "@value" not in node:
                values = value if isinstance(value, list) else [value]
                found.extend(v for v in values if ":" not in v)
            else:
                found.extend(relative_iris(value))
    return found


def test_build_shape_fire_safety() -> None:
    credential = build()

    assert credential == {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
            "https://staff-passport.example/contexts/training/v1",
        ],
        "id": CREDENTIAL_ID,
        "type": ["VerifiableCredential", "OpenBadgeCredential", "TrainingCredential"],
        "name": "Fire Safety",
        "issuer": {"id": ISSUER_DID, "type": ["Profile"]},
        "validFrom": "2025-02-14T00:00:00Z",
        "validUntil": "2027-02-14T00:00:00Z",
        "credentialSubject": {
            "id": HOLDER_DID,
            "type": ["AchievementSubject"],
            "name": "Robin EXAMPLE",
            "subjectCode": "FS",
            "level": "1",
            "completionDate": "2025-02-14",
            "refresherPeriod": "P2Y",
            "cstfAligned": True,
            "achievement": {
                "id": "https://staff-passport.example/achievements/cstf/FS",
                "type": ["Achievement"],
                "name": "Fire Safety",
                "description": "Core Skills Training Framework (England) subject.",
                "criteria": {
                    "narrative": (
                        "Completed the Core Skills Training Framework learning "
                        "outcomes for this subject and level."
                    )
                },
            },
        },
    }


def test_build_has_no_proof_or_status() -> None:
    credential = build()

    assert "proof" not in credential
    assert "credentialStatus" not in credential


def test_build_title_with_level() -> None:
    credential = build(subject_by_code("RES2A"))

    title = "Resuscitation - Level 2 - Adult Basic Life Support"
    assert credential["name"] == title
    assert credential["credentialSubject"]["achievement"]["name"] == title
    assert credential["credentialSubject"]["level"] == "2"
    assert credential["credentialSubject"]["subjectCode"] == "RES2A"


def test_build_cstf_not_aligned() -> None:
    credential = build(cstf_aligned=False)

    assert credential["credentialSubject"]["cstfAligned"] is False


def test_build_is_json() -> None:
    credential = build(display_name="Zoë EXAMPLE")

    assert json.loads(json.dumps(credential, ensure_ascii=False)) == credential


def test_build_returns_fresh_lists() -> None:
    first = build()
    first["@context"].append("https://example.invalid/")
    first["type"].append("Other")

    second = build()

    assert len(second["@context"]) == 3
    assert len(second["type"]) == 3


@pytest.mark.parametrize(
    ("code", "completed", "valid_until", "period"),
    [
        ("FS", date(2024, 2, 29), "2026-02-28T00:00:00Z", "P2Y"),
        ("IGDS", date(2024, 2, 29), "2025-02-28T00:00:00Z", "P1Y"),
        ("SA3", date(2024, 2, 29), "2027-02-28T00:00:00Z", "P3Y"),
        ("IPC2", date(2025, 12, 31), "2026-12-31T00:00:00Z", "P1Y"),
        ("MH2", date(2025, 1, 1), "2027-01-01T00:00:00Z", "P2Y"),
    ],
)
def test_build_valid_until(
    code: str, completed: date, valid_until: str, period: str
) -> None:
    credential = build(subject_by_code(code), completed=completed)

    assert credential["validFrom"] == f"{completed.isoformat()}T00:00:00Z"
    assert credential["validUntil"] == valid_until
    assert credential["credentialSubject"]["completionDate"] == completed.isoformat()
    assert credential["credentialSubject"]["refresherPeriod"] == period


def test_build_months_not_years() -> None:
    subject = Subject("X18", "Example", "1", "Example", "NHS|CSTF|Example|", 18)

    credential = build(subject, completed=date(2024, 8, 31))

    assert credential["validUntil"] == "2026-02-28T00:00:00Z"
    assert credential["credentialSubject"]["refresherPeriod"] == "P18M"


def test_build_display_name_nfc() -> None:
    credential = build(display_name="Zoe\u0308 EXAMPLE")

    assert credential["credentialSubject"]["name"] == "Zo\u00eb EXAMPLE"


def test_build_display_name_spaces() -> None:
    credential = build(display_name="  Robin   EXAMPLE ")

    assert credential["credentialSubject"]["name"] == "Robin EXAMPLE"


def test_build_rejects_datetime() -> None:
    with pytest.raises(TypeError, match="datetime.date"):
        build(completed=datetime(2025, 2, 14, 9, 30))


def test_build_rejects_string_date() -> None:
    with pytest.raises(TypeError, match="'2025-02-14'"):
        build(completed="2025-02-14")


def test_build_rejects_non_bool_alignment() -> None:
    with pytest.raises(TypeError, match="cstf_aligned"):
        build(cstf_aligned=1)


@pytest.mark.parametrize("parameter", ["credential_id", "issuer_id", "holder_id"])
@pytest.mark.parametrize("value", ["", "not a uri", "z6Mkabc", "did:key: z6Mk"])
def test_build_rejects_bad_id(parameter: str, value: str) -> None:
    with pytest.raises(ValueError, match=parameter):
        build(**{parameter: value})


@pytest.mark.parametrize("value", ["", "   "])
def test_build_rejects_blank_name(value: str) -> None:
    with pytest.raises(ValueError, match="blank"):
        build(display_name=value)


@pytest.mark.parametrize("value", ["Robin\x07 EXAMPLE", "Robin\u202e EXAMPLE"])
def test_build_rejects_control_character(value: str) -> None:
    with pytest.raises(ValueError, match="control or format character"):
        build(display_name=value)


# The bundled vocabulary context


def test_context_terms() -> None:
    path = CONTEXTS_DIR / "staff-passport-training-v1.jsonld"
    context = json.loads(path.read_text("utf-8"))["@context"]

    assert context["@version"] == 1.1
    assert context["@protected"] is True
    assert context["TrainingCredential"]["@id"] == VOCAB + "TrainingCredential"
    assert context["completionDate"]["@type"] == XSD + "date"
    assert context["refresherPeriod"]["@type"] == XSD + "duration"
    assert context["cstfAligned"]["@type"] == XSD + "boolean"


@pytest.mark.parametrize("subject", load_subjects(), ids=lambda s: s.code)
def test_context_expansion_drops_nothing(subject: Subject) -> None:
    expanded, dropped = expand(build(subject, display_name="Zoë EXAMPLE"))

    assert dropped == []
    assert relative_iris(expanded) == []


def test_context_expansion_reports_undefined_term() -> None:
    credential = build()
    credential["credentialSubject"]["employeeNumber"] = "99001234"

    _, dropped = expand(credential)

    assert dropped == ["employeeNumber"]


def test_context_expansion_typed_values() -> None:
    expanded, _ = expand(build())

    subject = expanded[0]["https://www.w3.org/2018/credentials#credentialSubject"][0]
    assert subject[VOCAB + "completionDate"] == [
        {"@type": XSD + "date", "@value": "2025-02-14"}
    ]
    assert subject[VOCAB + "refresherPeriod"] == [
        {"@type": XSD + "duration", "@value": "P2Y"}
    ]
    assert subject[VOCAB + "cstfAligned"] == [
        {"@type": XSD + "boolean", "@value": True}
    ]
    assert subject[VOCAB + "subjectCode"] == [{"@value": "FS"}]
    assert subject[VOCAB + "level"] == [{"@value": "1"}]


def test_context_expansion_credential_type() -> None:
    expanded, _ = expand(build())

    assert VOCAB + "TrainingCredential" in expanded[0]["@type"]


def test_context_protected_term() -> None:
    credential = build()
    credential["@context"] = [
        *credential["@context"],
        {"subjectCode": "https://attacker.example/code"},
    ]

    with pytest.raises(jsonld.JsonLdError) as raised:
        expand(credential)

    assert "protected" in str(raised.value).lower()


def test_context_canonical_nquads() -> None:
    nquads = jsonld.normalize(
        build(),
        {
            "algorithm": "URDNA2015",
            "format": "application/n-quads",
            "documentLoader": static_loader,
        },
    )

    assert f'"2025-02-14"^^<{XSD}date>' in nquads
    assert f'"P2Y"^^<{XSD}duration>' in nquads
    assert f'"true"^^<{XSD}boolean>' in nquads
