"""Loading, validating and compiling workflow definitions.

A definition is YAML in our own format (``definition.schema.json`` holds its
JSON Schema). Validation lists every error with the path that holds it, in
the form ``action[3].timing.due: expected an ISO 8601 duration, got "6
hours"``; a definition with any error is rejected whole. A valid document
compiles into a :class:`Definition`: one :class:`Node` per action, indexed by
id, so the runtime finds a step, its parent and its next sibling directly.
"""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from jsonschema import FormatChecker
from jsonschema.exceptions import ValidationError

from workflows.durations import is_duration
from workflows.errors import DefinitionInvalid, ExpressionFailed
from workflows.expressions import compile_expression, references

ROOT = "$root"
SIGNALS = "signals"
"""The instance variable that counts the signals received, e.g.
``"discharged" in signals``."""
BLOCK_KINDS = frozenset({"sequence", "parallel", "decision", "repeat"})
WAITING_KINDS = frozenset({"task", "handoff"})


@dataclass(frozen=True)
class Node:
    """One action of a compiled definition, or a decision branch.

    Decision branches become sequence nodes named ``<decision id>.<index>``;
    the top level is the sequence node ``$root``.
    """

    id: str
    kind: str
    spec: dict[str, Any]
    parent: str | None
    index: int
    children: tuple[str, ...] = ()


@dataclass(frozen=True)
class Definition:
    """A validated definition with its nodes indexed by id."""

    document: dict[str, Any]
    content_hash: str
    nodes: dict[str, Node] = field(repr=False)

    @property
    def id(self) -> str:
        return str(self.document["id"])

    @property
    def version(self) -> int:
        return int(self.document["version"])

    @property
    def title(self) -> str:
        return str(self.document["title"])

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]

    def next_sibling(self, node_id: str) -> Node | None:
        """Return the node after ``node_id`` in its sequence, if there is one."""
        node = self.nodes[node_id]
        assert node.parent is not None
        siblings = self.nodes[node.parent].children
        if node.index + 1 < len(siblings):
            return self.nodes[siblings[node.index + 1]]
        return None

    def form(self, name: str) -> dict[str, Any]:
        return dict(self.document.get("forms", {})[name])

    def score_table(self, name: str) -> dict[str, Any]:
        return dict(self.document.get("scoreTables", {})[name])


def content_hash(document: dict[str, Any]) -> str:
    """Return the SHA-256 of the document's canonical JSON, as hex.

    Formatting, comments and key order in the YAML do not change it.
    """
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@cache
def definition_schema() -> dict[str, Any]:
    """Return the JSON Schema of definitions."""
    text = resources.files("workflows").joinpath("definition.schema.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("duration")
    def _check_duration(value: object) -> bool:
        return not isinstance(value, str) or is_duration(value)

    @checker.checks("cel", raises=ExpressionFailed)
    def _check_cel(value: object) -> bool:
        if isinstance(value, str):
            compile_expression(value)
        return True

    return checker


def format_path(path: Any) -> str:
    """Render a JSON path as ``action[3].timing.due``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(top level)"


def _describe(error: ValidationError) -> str:
    instance = json.dumps(error.instance, default=str)
    if error.validator == "format" and error.validator_value == "duration":
        return f"expected an ISO 8601 duration such as 'PT6H', got {instance}"
    if error.validator == "format" and error.validator_value == "cel":
        cause = error.cause
        return str(cause) if cause else f"{instance} is not a valid CEL expression"
    if error.validator == "required":
        return error.message.replace("is a required property", "is missing")
    if error.validator == "enum":
        allowed: list[Any] = error.schema.get("enum", [])  # type: ignore[union-attr]
        choices = ", ".join(json.dumps(choice) for choice in allowed)
        return f"expected one of {choices}, got {instance}"
    if error.validator == "minItems":
        count = len(error.instance) if isinstance(error.instance, list) else 0
        return f"needs at least {error.validator_value} items, got {count}"
    if error.validator == "pattern":
        return f"{instance} does not match the pattern {error.validator_value!r}"
    if error.validator == "oneOf" and "required" in str(error.validator_value):
        return "a branch needs exactly one of 'condition', 'band' or 'otherwise'"
    return error.message


def schema_errors(document: Any) -> list[str]:
    """List every JSON Schema error of ``document``, each naming its path."""
    validator = jsonschema.Draft202012Validator(
        definition_schema(), format_checker=_format_checker()
    )
    errors = sorted(
        validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))
    )
    return [
        f"{format_path(error.absolute_path)}: {_describe(error)}" for error in errors
    ]


def _walk(actions: list[Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for index, action in enumerate(actions):
        here = f"{path}[{index}]"
        yield here, action
        for child_key in ("action",):
            if isinstance(action.get(child_key), list):
                yield from _walk(action[child_key], f"{here}.{child_key}")
        for number, branch in enumerate(action.get("branch") or []):
            if isinstance(branch, dict) and isinstance(branch.get("action"), list):
                yield from _walk(branch["action"], f"{here}.branch[{number}].action")


def rule_errors(document: dict[str, Any]) -> list[str]:
    """List the errors the schema cannot express: ids, references, bands."""
    errors: list[str] = []
    seen: dict[str, str] = {}
    forms = document.get("forms") or {}
    tables = document.get("scoreTables") or {}
    slots = set(document.get("organisations") or [])

    for name, table in tables.items():
        for index, band in enumerate(table["bands"]):
            low, high = band.get("min"), band.get("max")
            if low is not None and high is not None and low > high:
                errors.append(
                    f"scoreTables.{name}.bands[{index}]: min {low} is above max {high}"
                )
    for name, form in forms.items():
        ids = [item["id"] for item in form["fields"]]
        for duplicate in sorted({i for i in ids if ids.count(i) > 1}):
            errors.append(f"forms.{name}.fields: field id {duplicate!r} is repeated")

    for path, action in _walk(document["action"], "action"):
        action_id = action["id"]
        if action_id in seen:
            errors.append(
                f"{path}.id: {action_id!r} is already the id of {seen[action_id]}"
            )
        seen.setdefault(action_id, path)
        errors.extend(_action_errors(path, action, forms, tables, slots))
    errors.extend(reference_errors(document))
    return errors


def participant_roles(document: dict[str, Any]) -> set[str]:
    """Return the roles that the tasks and escalations of ``document`` name."""
    roles: set[str] = set()
    for _path, action in _walk(document.get("action") or [], "action"):
        participants = [action.get("participant")] + [
            step.get("participant") for step in action.get("escalation") or []
        ]
        roles.update(p["role"] for p in participants if p and "role" in p)
    return roles


def _recorded_members(
    action: dict[str, Any], forms: dict[str, Any]
) -> frozenset[str] | None:
    """Return the names a step records under its id, or None when any may be.

    The runtime stores a task's or handoff's form values and scores, a
    decision's score value and band, and a repeat's round count. A call
    stores the called definition's variables, which this one cannot know.
    """
    kind = action["type"]
    if kind in WAITING_KINDS:
        form = forms.get(action["form"]) if "form" in action else None
        if form is None:
            return frozenset() if kind == "task" else None
        return frozenset(
            [item["id"] for item in form["fields"]] + list(form.get("scores") or {})
        )
    if kind == "decision":
        return frozenset({"value", "band"} if "scoreTable" in action else ())
    if kind == "repeat":
        return frozenset({"iteration"})
    if kind == "call":
        return None
    raise KeyError(kind)


def _expressions(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield ``(path, text)`` for every condition, input and until."""
    for path, action in _walk(document["action"], "action"):
        if "input" in action:
            yield f"{path}.input", action["input"]
        if "until" in action:
            yield f"{path}.until", action["until"]
        for index, branch in enumerate(action.get("branch") or []):
            if "condition" in branch:
                yield f"{path}.branch[{index}].condition", branch["condition"]


def reference_errors(document: dict[str, Any]) -> list[str]:
    """List the names that conditions and waits read but the definition lacks.

    A condition is evaluated over the instance variables: ``signals``, the
    start data the definition declares under ``startData``, and each step's
    recorded values under the step's id (see :func:`_recorded_members`). A
    form's scores also read the form's own fields and the scores above them.
    Only the parse trees are read; nothing is evaluated.
    """
    forms = document.get("forms") or {}
    errors = _start_data_errors(document)
    scope = _variable_scope(document, forms)
    for path, text in _expressions(document):
        errors.extend(_unknown_names(path, text, scope))
    errors.extend(_wait_origin_errors(document))
    for name, form in forms.items():
        own: dict[str, frozenset[str] | None] = {
            item["id"]: None for item in form["fields"]
        }
        for score, text in (form.get("scores") or {}).items():
            path = f"forms.{name}.scores.{score}"
            errors.extend(_unknown_names(path, text, {**scope, **own}))
            own[score] = None
    return errors


def _variable_scope(
    document: dict[str, Any], forms: dict[str, Any]
) -> dict[str, frozenset[str] | None]:
    """Map each instance variable name to the members it may have (None: any)."""
    scope: dict[str, frozenset[str] | None] = {SIGNALS: None}
    for item in document.get("startData") or []:
        scope[item["id"]] = None
    for _path, action in _walk(document["action"], "action"):
        if action["type"] not in ("sequence", "parallel", "wait"):
            scope[action["id"]] = _recorded_members(action, forms)
    return scope


def _start_data_errors(document: dict[str, Any]) -> list[str]:
    # The engine stores signals and each step's values under these names, so
    # start data of the same name could never be read.
    step_ids = {action["id"] for _path, action in _walk(document["action"], "action")}
    return [
        f"startData[{index}].id: {item['id']!r} is already the name of signals "
        "or a step; rename it"
        for index, item in enumerate(document.get("startData") or [])
        if item["id"] == SIGNALS or item["id"] in step_ids
    ]


def _wait_origin_errors(document: dict[str, Any]) -> list[str]:
    # A wait counts from a date the instance was started with, because a
    # step's recorded values are an object, never a date.
    start_fields = {item["id"] for item in document.get("startData") or []}
    errors = []
    for path, action in _walk(document["action"], "action"):
        if action["type"] != "wait":
            continue
        origin = action["timing"].get("from")
        if origin is not None and origin not in start_fields:
            errors.append(
                f"{path}.timing.from: {origin!r} is not a start-data field of this "
                "definition; declare it under startData"
            )
    return errors


def _unknown_names(
    path: str, text: str, scope: dict[str, frozenset[str] | None]
) -> Iterator[str]:
    try:
        found = references(text)
    except ExpressionFailed:
        return  # the schema check already reports text that is not CEL
    for name, member in found:
        if name not in scope:
            yield (
                f"{path}: {text!r} refers to {name!r}, which is not a step, "
                f"start-data field or variable of this definition"
            )
            continue
        members = scope[name]
        if member is not None and members is not None and member not in members:
            known = ", ".join(sorted(members)) or "nothing"
            yield (
                f"{path}: {text!r} refers to {name}.{member}, but step {name!r} "
                f"records no {member!r} (it records {known})"
            )


def _action_errors(
    path: str,
    action: dict[str, Any],
    forms: dict[str, Any],
    tables: dict[str, Any],
    slots: set[str],
) -> Iterator[str]:
    kind = action["type"]
    participants = [action.get("participant")] + [
        step.get("participant") for step in action.get("escalation") or []
    ]
    for participant in filter(None, participants):
        if participant["organisation"] not in slots:
            yield (
                f"{path}: organisation {participant['organisation']!r} is not one of "
                f"the definition's organisations {sorted(slots)}"
            )
    for index, escalation in enumerate(action.get("escalation") or []):
        # An escalated task stays at its organisation and gains a second
        # role there, so the escalation cannot name another organisation.
        own = action["participant"]["organisation"]
        if escalation["participant"]["organisation"] != own:
            yield (
                f"{path}.escalation[{index}].participant.organisation: expected "
                f"{own!r}, the task's own organisation"
            )
    if "form" in action and action["form"] not in forms:
        yield f"{path}.form: no form named {action['form']!r} in forms"
    if kind == "decision" and "scoreTable" in action:
        table = tables.get(action["scoreTable"])
        if table is None:
            yield f"{path}.scoreTable: no score table named {action['scoreTable']!r}"
        else:
            bands = {band["band"] for band in table["bands"]}
            for index, branch in enumerate(action["branch"]):
                if "band" in branch and branch["band"] not in bands:
                    yield (
                        f"{path}.branch[{index}].band: {branch['band']!r} is not a "
                        f"band of score table {action['scoreTable']!r}"
                    )
    if kind == "decision":
        for index, branch in enumerate(action["branch"]):
            if "band" in branch and "scoreTable" not in action:
                yield (
                    f"{path}.branch[{index}].band: a band needs the decision's "
                    f"scoreTable"
                )
            if "otherwise" in branch and index != len(action["branch"]) - 1:
                yield f"{path}.branch[{index}]: 'otherwise' must be the last branch"
    if kind == "repeat" and "timing" not in action and "until" not in action:
        yield f"{path}: a repeat needs timing.every, until, or both"


def parse_definition(text: str, *, source: str = "definition") -> Definition:
    """Parse YAML ``text``, validate it and compile it.

    :raises DefinitionInvalid: listing every error when the YAML does not
        parse, breaks the schema or breaks a rule.
    """
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        # PyYAML names a parsed string "<unicode string>" in its marks, so
        # name the source instead, which is the file's path when read from one.
        for mark in (
            getattr(error, "context_mark", None),
            getattr(error, "problem_mark", None),
        ):
            if mark is not None:
                mark.name = source
        raise DefinitionInvalid([f"(YAML): {error}"], source=source) from None
    return compile_definition(document, source=source)


def load_definition(path: Path) -> Definition:
    """Read, validate and compile the definition file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DefinitionInvalid(
            [f"(file): cannot read: {error}"], source=str(path)
        ) from None
    return parse_definition(text, source=str(path))


def compile_definition(document: Any, *, source: str = "definition") -> Definition:
    """Validate a parsed document and index its nodes.

    :raises DefinitionInvalid: listing every schema and rule error.
    """
    errors = schema_errors(document)
    try:
        errors += rule_errors(document)
    except (KeyError, TypeError, AttributeError):
        # The schema errors already describe the malformed part that stopped
        # the rule checks.
        pass
    if errors:
        raise DefinitionInvalid(errors, source=source)

    nodes: dict[str, Node] = {}
    _index_actions(nodes, ROOT, document["action"])
    nodes[ROOT] = Node(
        ROOT, "sequence", {}, None, 0, tuple(a["id"] for a in document["action"])
    )
    return Definition(document, content_hash(document), nodes)


def _index_actions(nodes: dict[str, Node], parent: str, actions: list[Any]) -> None:
    for index, action in enumerate(actions):
        kind = action["type"]
        children: tuple[str, ...] = ()
        if kind in ("sequence", "parallel", "repeat"):
            children = tuple(child["id"] for child in action["action"])
            _index_actions(nodes, action["id"], action["action"])
        elif kind == "decision":
            branch_ids = []
            for number, branch in enumerate(action["branch"]):
                branch_id = f"{action['id']}.{number}"
                branch_ids.append(branch_id)
                steps = branch.get("action") or []
                nodes[branch_id] = Node(
                    branch_id,
                    "sequence",
                    branch,
                    action["id"],
                    number,
                    tuple(step["id"] for step in steps),
                )
                _index_actions(nodes, branch_id, steps)
            children = tuple(branch_ids)
        nodes[action["id"]] = Node(action["id"], kind, action, parent, index, children)


def library_path() -> Path:
    """Return the folder of bundled protocol definitions."""
    return Path(str(resources.files("workflows").joinpath("library")))


def bundled_definitions() -> list[Definition]:
    """Load every bundled protocol definition, in file-name order."""
    return [load_definition(path) for path in sorted(library_path().glob("*.yaml"))]
