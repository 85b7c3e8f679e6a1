import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlmodel import Session, func, select

from passport.cli import main
from tests.workflows.conftest import definition, start
from workflows.definitions import bundled_definitions, parse_definition
from workflows.errors import DefinitionConflict, DefinitionInvalid, ExpressionFailed
from workflows.expressions import evaluate
from workflows.fhir import plan_definition
from workflows.models import WorkflowDefinition, WorkflowTimer

VALID = """
id: short-protocol
version: 1
title: Short protocol
sources: [{title: Test, url: "https://example.org/test"}]
organisations: [hospital]
action:
  - id: assess
    type: task
    title: Assess
    participant: {role: rn, organisation: hospital}
    timing: {due: PT6H}
  - id: pause
    type: wait
    timing: {duration: PT1H}
"""

INVALID = """
id: broken
version: 1
title: Broken
sources: [{title: Test, url: "https://example.org/test"}]
organisations: [hospital]
forms:
  score: {fields: [{id: a, type: integer}], scores: {total: "a +"}}
action:
  - id: assess
    type: task
    title: Assess
    participant: {role: rn, organisation: hospital}
    timing: {due: "6 hours"}
  - id: assess
    type: parallel
    selectionBehavior: some
    action: [{id: only, type: wait, timing: {duration: P1D}}]
  - id: refer
    type: task
    title: Refer
    participant: {role: sw, organisation: council}
"""


def test_invalid_definition_lists_every_error():
    with pytest.raises(DefinitionInvalid) as caught:
        parse_definition(INVALID)

    errors = caught.value.errors
    assert (
        "action[0].timing.due: expected an ISO 8601 duration such as 'PT6H', got \"6 hours\""
        in errors
    )
    assert (
        'action[1].selectionBehavior: expected one of "all", "any", got "some"'
        in errors
    )
    assert "action[1].action: needs at least 2 items, got 1" in errors
    assert "action[1].id: 'assess' is already the id of action[0]" in errors
    assert "forms.score.scores.total: 'a +' is not valid CEL at column 3" in errors
    assert any(
        error.startswith("action[2]: organisation 'council'") for error in errors
    )
    assert len(errors) == 6


def test_validate_command_exit_codes(tmp_path: Path):
    valid = tmp_path / "valid.yaml"
    valid.write_text(VALID)
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text(INVALID)
    runner = CliRunner()

    passed = runner.invoke(main, ["workflows", "validate", str(valid)])
    failed = runner.invoke(main, ["workflows", "validate", str(valid), str(invalid)])

    assert passed.exit_code == 0
    assert "valid (short-protocol version 1" in passed.output
    assert failed.exit_code == 1
    assert "invalid.yaml: invalid, 6 errors" in failed.output
    assert "action[0].timing.due: expected an ISO 8601 duration" in failed.output


def test_validate_command_rejects_broken_yaml(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text("id: [unclosed\n")

    result = CliRunner().invoke(main, ["workflows", "validate", str(path)])

    assert result.exit_code == 1
    assert "(YAML)" in result.output
    assert "invalid, 1 error\n" in result.output
    assert f'in "{path}", line 1' in result.output
    assert "<unicode string>" not in result.output


def test_bundled_definitions_are_valid():
    definitions = {item.id: item for item in bundled_definitions()}

    assert set(definitions) == {
        "frailty-admission",
        "pressure-ulcer-prevention",
        "nutrition-must",
        "falls-multifactorial",
        "delirium-4at",
        "discharge-to-assess",
    }
    for item in definitions.values():
        assert item.document["sources"], item.id
        for source in item.document["sources"]:
            assert source["url"].startswith("http"), item.id
    called = {
        node.spec["definition"]
        for item in definitions.values()
        for node in item.nodes.values()
        if node.kind == "call"
    }
    assert called <= set(definitions)


def test_identical_import_creates_nothing(workflows):
    """Importing an identical definition twice: no new version and no
    duplicate timers."""
    first = definition(
        "short-protocol",
        [{"id": "pause", "type": "wait", "timing": {"duration": "PT1H"}}],
    )
    published = workflows.publish(first)
    start(workflows, "short-protocol")
    reordered = yaml.safe_load(yaml.safe_dump(first.document, sort_keys=True))

    again = workflows.publish(definition("short-protocol", reordered["action"]))

    assert published.created is True
    assert again.created is False
    assert again.definition_pk == published.definition_pk
    with Session(workflows.engine) as session:
        versions = session.exec(
            select(func.count()).select_from(WorkflowDefinition)
        ).one()
        timers = session.exec(select(func.count()).select_from(WorkflowTimer)).one()
    assert versions == 1
    assert timers == 1


def test_changed_content_same_version_rejected(workflows):
    workflows.publish(
        definition(
            "short-protocol",
            [{"id": "pause", "type": "wait", "timing": {"duration": "PT1H"}}],
        )
    )

    with pytest.raises(DefinitionConflict, match="raise 'version'"):
        workflows.publish(
            definition(
                "short-protocol",
                [{"id": "pause", "type": "wait", "timing": {"duration": "PT2H"}}],
            )
        )


def test_plan_definition_export_maps_blocks():
    pressure = next(
        d for d in bundled_definitions() if d.id == "pressure-ulcer-prevention"
    )

    resource = plan_definition(pressure)

    assert resource["resourceType"] == "PlanDefinition"
    assert resource["status"] == "active"
    assert resource["version"] == "1"
    assessment = resource["action"][0]
    assert assessment["id"] == "admission_assessment"
    assert assessment["timingDuration"] == {
        "value": 6,
        "unit": "h",
        "system": "http://unitsofmeasure.org",
        "code": "h",
    }
    assert assessment["participant"][0]["type"] == "practitioner"
    care = resource["action"][2]
    assert care["selectionBehavior"] == "all"
    plan = next(a for a in care["action"] if a["id"] == "repositioning_plan")
    very_high = plan["action"][0]
    assert very_high["condition"][0]["kind"] == "applicability"
    assert very_high["condition"][0]["expression"] == {
        "language": "text/cel",
        "expression": 'repositioning_plan.band == "very-high-risk"',
    }
    very_high_care = very_high["action"][0]
    assert very_high_care["selectionBehavior"] == "all"
    turns = very_high_care["action"][1]
    assert turns["timingTiming"] == {
        "repeat": {"frequency": 1, "period": 4, "periodUnit": "h"}
    }
    assert len(resource["relatedArtifact"]) == len(pressure.document["sources"])


def test_export_command_writes_plan_definition(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("PASSPORT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'passport.db'}")
    runner = CliRunner()
    init = runner.invoke(main, ["init"])
    assert init.exit_code == 0, init.output
    imported = runner.invoke(main, ["workflows", "import"])
    assert imported.exit_code == 0, imported.output
    assert "published frailty-admission version 1" in imported.output

    again = runner.invoke(main, ["workflows", "import"])
    exported = runner.invoke(
        main, ["workflows", "export", "--fhir", "--definition", "falls-multifactorial"]
    )

    assert "unchanged falls-multifactorial version 1" in again.output
    assert exported.exit_code == 0, exported.output
    resource = json.loads(exported.output)
    assert resource["resourceType"] == "PlanDefinition"
    assert resource["url"].endswith("/PlanDefinition/falls-multifactorial")


def test_deeply_nested_condition_rejected():
    deep = "(" * 60 + "true" + ")" * 60
    document = yaml.safe_load(VALID)
    document["forms"] = {"score": {"fields": [{"id": "a", "type": "integer"}]}}
    document["forms"]["score"]["scores"] = {"total": deep}

    with pytest.raises(DefinitionInvalid) as caught:
        parse_definition(yaml.safe_dump(document))

    assert len(caught.value.errors) == 1
    assert "nests deeper than 200 parse levels" in caught.value.errors[0]


def test_long_flat_expression_fails_cleanly():
    with pytest.raises(ExpressionFailed) as caught:
        evaluate("1+" * 20000 + "1", {})

    assert "nests deeper than" in str(caught.value)


def test_deeply_nested_variables_fail_cleanly():
    nested: object = 1
    for _ in range(5000):
        nested = [nested]

    with pytest.raises(ExpressionFailed) as caught:
        evaluate("size(data) == 1", {"data": nested})

    assert "nest too deeply" in str(caught.value)


UNKNOWN_NAMES = """
id: unknown-names
version: 1
title: Unknown names
sources: [{title: Test, url: "https://example.org/test"}]
organisations: [hospital]
forms:
  falls:
    fields: [{id: syncope, type: boolean}, {id: score, type: integer}]
    scores: {double: "score * 2", bad: "score + nosuchfield"}
action:
  - id: checklist
    type: task
    title: Checklist
    participant: {role: rn, organisation: hospital}
    form: falls
  - id: pick
    type: decision
    branch:
      - condition: nosuchnode.x > 3
        action: [{id: later, type: wait, timing: {duration: PT1H}}]
      - condition: checklist.no_such_field
      - otherwise: true
"""


def test_conditions_naming_unknown_steps_or_fields_rejected(tmp_path: Path):
    """Names are checked from the parse tree when the definition is validated,
    not when an instance reaches the condition."""
    with pytest.raises(DefinitionInvalid) as caught:
        parse_definition(UNKNOWN_NAMES)

    assert caught.value.errors == [
        "action[1].branch[0].condition: 'nosuchnode.x > 3' refers to "
        "'nosuchnode', which is not a step, start-data field or variable of "
        "this definition",
        "action[1].branch[1].condition: 'checklist.no_such_field' refers to "
        "checklist.no_such_field, but step 'checklist' records no "
        "'no_such_field' (it records bad, double, score, syncope)",
        "forms.falls.scores.bad: 'score + nosuchfield' refers to 'nosuchfield', "
        "which is not a step, start-data field or variable of this definition",
    ]
    path = tmp_path / "unknown.yaml"
    path.write_text(UNKNOWN_NAMES)
    result = CliRunner().invoke(main, ["workflows", "validate", str(path)])
    assert result.exit_code == 1
    assert "invalid, 3 errors" in result.output
    assert "refers to 'nosuchnode'" in result.output


def test_conditions_may_name_what_the_runtime_provides():
    """Step values, start data, signals, macro variables and CEL type names."""
    document = yaml.safe_load(UNKNOWN_NAMES)
    document["forms"]["falls"]["scores"]["bad"] = "double + syncope.size()"
    document["startData"] = [{"id": "ward_kind", "type": "text"}]
    document["action"][1]["branch"][0]["condition"] = (
        'checklist.score > 3 && "discharged" in signals && ward_kind == "acute"'
        " && [1, 2].all(x, x > 0) && type(checklist.score) == int"
    )
    document["action"][1]["branch"][1]["condition"] = "has(checklist.syncope)"

    assert (
        definition(
            "unknown-names",
            document["action"],
            **{key: document[key] for key in ("forms", "startData")},
        ).id
        == "unknown-names"
    )


def test_start_data_named_like_a_step_rejected():
    document = yaml.safe_load(UNKNOWN_NAMES)
    document["startData"] = [
        {"id": "checklist", "type": "text"},
        {"id": "signals", "type": "text"},
    ]

    with pytest.raises(DefinitionInvalid) as caught:
        parse_definition(yaml.safe_dump(document))

    assert (
        "startData[0].id: 'checklist' is already the name of signals or a step; "
        "rename it" in caught.value.errors
    )
    assert (
        "startData[1].id: 'signals' is already the name of signals or a step; "
        "rename it" in caught.value.errors
    )
