"""Competency frameworks: loading, validating and reading them.

A framework is a workflow definition (``workflows/definition.schema.json``)
with a ``programme`` section. The engine validates the whole document and
runs its ``action`` part: the entry assessment and the start, mid-point and
end reviews, with reminders and escalation. This module validates the
``programme`` section against ``framework.schema.json`` and the rules a
schema cannot express (every reference resolves, every managerial and
personal competency names one leadership dimension, every sign-off
condition compiles as CEL), then reads it as :class:`Framework`.
"""

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from programmes.errors import FrameworkInvalid
from workflows.definitions import Definition, format_path, load_definition
from workflows.errors import DefinitionInvalid, ExpressionFailed
from workflows.expressions import compile_expression

LEADERSHIP_DOMAINS = ("managerial", "personal")
DEFAULT_FRAMEWORK = "graduate-leadership"


@dataclass(frozen=True)
class SignOffRule:
    id: str
    title: str
    signers: tuple[str, ...]
    named_only: tuple[str, ...]
    min_signers: int
    condition: str


@dataclass(frozen=True)
class Competency:
    id: str
    domain: str
    title: str
    variants: tuple[str, ...] | None
    dimension: str | None
    expected_rating: str | None
    evidence: tuple[str, ...]
    sign_off: str
    issuer: str

    def in_variant(self, variant: str) -> bool:
        return self.variants is None or variant in self.variants


@dataclass(frozen=True)
class EvidenceType:
    id: str
    title: str
    kind: str
    added_by: tuple[str, ...]


@dataclass(frozen=True)
class Framework:
    """A validated framework: the workflow definition and its programme data."""

    definition: Definition
    ratings: tuple[str, ...]
    dimensions: dict[str, str]
    entry_routes: dict[str, bool]
    variants: dict[str, str]
    evidence_types: dict[str, EvidenceType]
    rules: dict[str, SignOffRule]
    competencies: dict[str, Competency]

    @property
    def id(self) -> str:
        return self.definition.id

    @property
    def version(self) -> int:
        return self.definition.version

    @property
    def title(self) -> str:
        return self.definition.title

    def competencies_for(self, variant: str) -> list[Competency]:
        """Return the competencies of ``variant``, common ones included, in
        framework order."""
        return [c for c in self.competencies.values() if c.in_variant(variant)]

    def rule_for(self, competency: Competency) -> SignOffRule:
        return self.rules[competency.sign_off]

    def rating_rank(self, rating: str) -> int:
        return self.ratings.index(rating)


@cache
def framework_schema() -> dict[str, Any]:
    """Return the JSON Schema of the ``programme`` section."""
    text = resources.files("programmes").joinpath("framework.schema.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def programme_errors(section: Any) -> list[str]:
    """List every schema and rule error of a ``programme`` section."""
    validator = jsonschema.Draft202012Validator(framework_schema())
    errors = [
        f"programme.{format_path(error.absolute_path)}: {error.message}"
        for error in sorted(
            validator.iter_errors(section), key=lambda e: list(map(str, e.path))
        )
    ]
    if errors:
        return errors
    return _rule_errors(section)


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [str(item["id"]) for item in items]


def _rule_errors(section: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    for name in ("dimensions", "entryRoutes", "variants", "evidenceTypes"):
        ids = _ids(section[name])
        for duplicate in sorted({i for i in ids if ids.count(i) > 1}):
            errors.append(f"programme.{name}: id {duplicate!r} is repeated")
    ids = _ids(section["signOffRules"]) + _ids(section["competencies"])
    for duplicate in sorted({i for i in ids if ids.count(i) > 1}):
        errors.append(f"programme: rule or competency id {duplicate!r} is repeated")

    for index, rule in enumerate(section["signOffRules"]):
        path = f"programme.signOffRules[{index}]"
        try:
            compile_expression(rule["condition"])
        except ExpressionFailed as error:
            errors.append(f"{path}.condition: {error}")
        for role in rule.get("namedOnly", []):
            if role not in rule["signers"]:
                errors.append(f"{path}.namedOnly: {role!r} is not one of its signers")

    dimensions = set(_ids(section["dimensions"]))
    variants = set(_ids(section["variants"]))
    evidence = set(_ids(section["evidenceTypes"]))
    rules = set(_ids(section["signOffRules"]))
    ratings = section["ratings"]
    for index, item in enumerate(section["competencies"]):
        path = f"programme.competencies[{index}]"
        leadership = item["domain"] in LEADERSHIP_DOMAINS
        if leadership and "dimension" not in item:
            errors.append(
                f"{path}: a {item['domain']} competency needs a leadership dimension"
            )
        if "dimension" in item and item["dimension"] not in dimensions:
            errors.append(f"{path}.dimension: no dimension {item['dimension']!r}")
        if "expectedRating" in item and item["expectedRating"] not in ratings:
            errors.append(
                f"{path}.expectedRating: {item['expectedRating']!r} is not one of "
                f"the ratings {ratings}"
            )
        for variant in item.get("variants", []):
            if variant not in variants:
                errors.append(f"{path}.variants: no variant {variant!r}")
        for kind in item["evidence"]:
            if kind not in evidence:
                errors.append(f"{path}.evidence: no evidence type {kind!r}")
        if item["signOff"] not in rules:
            errors.append(f"{path}.signOff: no sign-off rule {item['signOff']!r}")
    return errors


def read_framework(definition: Definition) -> Framework:
    """Validate a compiled definition's ``programme`` section and read it.

    :raises FrameworkInvalid: listing every error of the section.
    """
    section = definition.document.get("programme")
    if section is None:
        raise FrameworkInvalid(
            ["programme: is missing; add the competency framework section"],
            source=definition.id,
        )
    errors = programme_errors(section)
    if errors:
        raise FrameworkInvalid(errors, source=definition.id)
    return Framework(
        definition=definition,
        ratings=tuple(section["ratings"]),
        dimensions={d["id"]: d["title"] for d in section["dimensions"]},
        entry_routes={r["id"]: r["entryAssessment"] for r in section["entryRoutes"]},
        variants={v["id"]: v["title"] for v in section["variants"]},
        evidence_types={
            e["id"]: EvidenceType(e["id"], e["title"], e["kind"], tuple(e["addedBy"]))
            for e in section["evidenceTypes"]
        },
        rules={
            r["id"]: SignOffRule(
                r["id"],
                r["title"],
                tuple(r["signers"]),
                tuple(r.get("namedOnly", [])),
                int(r["minSigners"]),
                r["condition"],
            )
            for r in section["signOffRules"]
        },
        competencies={
            c["id"]: Competency(
                id=c["id"],
                domain=c["domain"],
                title=c["title"],
                variants=tuple(c["variants"]) if "variants" in c else None,
                dimension=c.get("dimension"),
                expected_rating=c.get("expectedRating"),
                evidence=tuple(c["evidence"]),
                sign_off=c["signOff"],
                issuer=c.get("issuer", "employer"),
            )
            for c in section["competencies"]
        },
    )


def load_framework(path: Path) -> Framework:
    """Load, validate and read the framework file at ``path``.

    :raises FrameworkInvalid: listing the engine's errors or the section's.
    """
    try:
        definition = load_definition(path)
    except DefinitionInvalid as error:
        raise FrameworkInvalid(error.errors, source=str(path)) from None
    return read_framework(definition)


def library_path() -> Path:
    """Return the folder of bundled frameworks."""
    return Path(str(resources.files("programmes").joinpath("library")))


@cache
def bundled_framework(framework_id: str = DEFAULT_FRAMEWORK) -> Framework:
    """Return a bundled framework by id, read once per process.

    :raises FrameworkInvalid: when the file is missing or invalid.
    """
    path = library_path() / f"{framework_id}.yaml"
    if not path.exists():
        raise FrameworkInvalid(
            [f"(file): no bundled framework {framework_id!r} in {library_path()}"],
            source=framework_id,
        )
    return load_framework(path)
