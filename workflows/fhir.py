"""Exporting definitions as FHIR R4 PlanDefinitions and handoffs as Tasks.

Our format was named after PlanDefinition (action, condition, timing,
participant), so the export is a mapping:

- a parallel block is a group whose ``selectionBehavior`` is ``all`` or
  ``any``;
- a decision branch is a group with an applicability condition in CEL
  (``text/cel``);
- a repeat carries a ``timingTiming`` with its period;
- a called protocol is a ``definitionCanonical``.

A handoff is a ServiceRequest to the receiving organisation plus the Task
that tracks it, whose ``focus`` names the request.
"""

import uuid
from datetime import datetime, timedelta
from typing import Any

from workflows.definitions import Definition, Node
from workflows.durations import parse_duration
from workflows.models import WorkflowActivity, WorkflowInstance

CANONICAL_BASE = "https://staff-passport.example/fhir"
ROLE_SYSTEM = f"{CANONICAL_BASE}/CodeSystem/care-role"
REQUEST_SYSTEM = f"{CANONICAL_BASE}/CodeSystem/handoff-request"
ORGANISATION_SYSTEM = f"{CANONICAL_BASE}/sid/organisation-slug"
SUBJECT_SYSTEM = f"{CANONICAL_BASE}/sid/pseudonymous-patient-reference"
UCUM = "http://unitsofmeasure.org"
CEL_LANGUAGE = "text/cel"


def plan_definition(definition: Definition) -> dict[str, Any]:
    """Map a definition to a FHIR R4 PlanDefinition resource."""
    document = definition.document
    return {
        "resourceType": "PlanDefinition",
        "id": f"{definition.id}-v{definition.version}",
        "url": f"{CANONICAL_BASE}/PlanDefinition/{definition.id}",
        "version": str(definition.version),
        "name": definition.id.replace("-", "_"),
        "title": definition.title,
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/plan-definition-type",
                    "code": "clinical-protocol",
                }
            ]
        },
        "status": "active",
        "description": document.get("description", definition.title),
        "relatedArtifact": [
            {"type": "citation", "label": source["title"], "url": source["url"]}
            for source in document["sources"]
        ],
        "action": [
            _action(definition, definition.node(child))
            for child in definition.node("$root").children
        ],
    }


def _action(definition: Definition, node: Node) -> dict[str, Any]:
    spec = node.spec
    action: dict[str, Any] = {"id": node.id, "title": spec.get("title", node.id)}
    if "description" in spec:
        action["description"] = spec["description"]
    if "participant" in spec:
        action["participant"] = [_participant(spec["participant"])]
    if spec.get("timing", {}).get("due"):
        action["timingDuration"] = _duration(parse_duration(spec["timing"]["due"]))
    if node.kind == "wait":
        action["timingDuration"] = _duration(parse_duration(spec["timing"]["duration"]))
    if node.kind in ("task", "handoff"):
        action["type"] = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/action-type",
                    "code": "create",
                }
            ]
        }
        action["code"] = [
            {"text": "collect-information" if node.kind == "task" else "order-service"}
        ]
    if node.kind == "handoff":
        action["code"] = [
            {
                "coding": [
                    {
                        "system": REQUEST_SYSTEM,
                        "code": spec["request"]["code"],
                        "display": spec["request"]["display"],
                    }
                ]
            }
        ]
    if node.kind in ("sequence", "parallel", "repeat", "decision"):
        action["groupingBehavior"] = "logical-group"
    if node.kind == "parallel":
        action["selectionBehavior"] = spec["selectionBehavior"]
    if node.kind == "sequence":
        action["selectionBehavior"] = "all"
    if node.kind == "decision":
        action["selectionBehavior"] = (
            "any" if spec.get("selectionBehavior") == "all" else "exactly-one"
        )
    if node.kind == "repeat":
        action["selectionBehavior"] = "all"
        action["cardinalityBehavior"] = "multiple"
        if "timing" in spec:
            action["timingTiming"] = {
                "repeat": _period(parse_duration(spec["timing"]["every"]))
            }
        if "until" in spec:
            action["condition"] = [
                {
                    "kind": "stop",
                    "expression": {
                        "language": CEL_LANGUAGE,
                        "expression": spec["until"],
                    },
                }
            ]
    if node.kind == "call":
        action["definitionCanonical"] = (
            f"{CANONICAL_BASE}/PlanDefinition/{spec['definition']}"
            + (f"|{spec['version']}" if "version" in spec else "")
        )
    children = [definition.node(child) for child in node.children]
    if node.kind == "decision":
        action["action"] = [_branch(definition, node, child) for child in children]
    elif children:
        action["action"] = [_action(definition, child) for child in children]
    return action


def _branch(definition: Definition, decision: Node, branch: Node) -> dict[str, Any]:
    spec = branch.spec
    if "condition" in spec:
        expression = spec["condition"]
    elif "band" in spec:
        # The decision stores the band its score table gave under its own id.
        expression = f'{decision.id}.band == "{spec["band"]}"'
    else:
        expression = "true"
    return {
        "id": branch.id.replace(".", "-branch-"),
        "title": spec.get("band") or ("otherwise" if "otherwise" in spec else "when"),
        "groupingBehavior": "logical-group",
        "selectionBehavior": "all",
        "condition": [
            {
                "kind": "applicability",
                "expression": {"language": CEL_LANGUAGE, "expression": expression},
            }
        ],
        "action": [
            _action(definition, definition.node(child)) for child in branch.children
        ],
    }


def _participant(participant: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "practitioner",
        "role": {
            "coding": [{"system": ROLE_SYSTEM, "code": participant["role"]}],
            "text": (
                f"{participant['role']} at the {participant['organisation']} "
                f"organisation"
            ),
        },
    }


def _duration(delta: timedelta) -> dict[str, Any]:
    value, unit = _in_units(delta)
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def _period(delta: timedelta) -> dict[str, Any]:
    value, unit = _in_units(delta)
    return {"frequency": 1, "period": value, "periodUnit": unit}


def _in_units(delta: timedelta) -> tuple[float, str]:
    seconds = delta.total_seconds()
    for unit, size in (("wk", 604800), ("d", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return seconds // size, unit
    return seconds, "s"


def handoff_bundle(
    instance: WorkflowInstance, activity: WorkflowActivity, node: Node, now: datetime
) -> dict[str, Any]:
    """Build the FHIR R4 ServiceRequest and Task that carry one handoff.

    The patient appears only as a pseudonymous identifier, never by name or
    NHS number.
    """
    spec = node.spec
    request_id = f"handoff-{activity.id}-request"
    sender = _sending_organisation(instance, spec)
    subject = {"identifier": {"system": SUBJECT_SYSTEM, "value": instance.subject_ref}}
    receiver = {
        "identifier": {"system": ORGANISATION_SYSTEM, "value": activity.organisation}
    }
    requester = {"identifier": {"system": ORGANISATION_SYSTEM, "value": sender}}
    code = {
        "coding": [
            {
                "system": REQUEST_SYSTEM,
                "code": spec["request"]["code"],
                "display": spec["request"]["display"],
            }
        ]
    }
    service_request: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": request_id,
        "instantiatesCanonical": [
            f"{CANONICAL_BASE}/PlanDefinition/{instance.definition_id}|{instance.version}"
        ],
        "status": "active",
        "intent": "order",
        "code": code,
        "subject": subject,
        "authoredOn": now.isoformat(),
        "requester": requester,
        "performer": [receiver],
        "performerType": {"coding": [{"system": ROLE_SYSTEM, "code": activity.role}]},
    }
    task: dict[str, Any] = {
        "resourceType": "Task",
        "id": f"handoff-{activity.id}",
        "identifier": [
            {"system": f"{CANONICAL_BASE}/sid/workflow-task", "value": str(activity.id)}
        ],
        "basedOn": [{"reference": f"ServiceRequest/{request_id}"}],
        "status": "requested",
        "intent": "order",
        "code": code,
        "description": spec["title"],
        "focus": {"reference": f"ServiceRequest/{request_id}"},
        "for": subject,
        "authoredOn": now.isoformat(),
        "requester": requester,
        "owner": receiver,
        "performerType": [{"coding": [{"system": ROLE_SYSTEM, "code": activity.role}]}],
    }
    if activity.due_at is not None:
        task["restriction"] = {"period": {"end": activity.due_at.isoformat()}}
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": now.isoformat(),
        "entry": [
            {
                "fullUrl": _urn(instance, activity, "request"),
                "resource": service_request,
            },
            {"fullUrl": _urn(instance, activity, "task"), "resource": task},
        ],
    }


def _urn(instance: WorkflowInstance, activity: WorkflowActivity, part: str) -> str:
    """Return a stable ``urn:uuid:`` for one resource of a handoff, so the
    same handoff exported twice has the same identity."""
    name = f"{instance.id}/{activity.id}/{part}"
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, CANONICAL_BASE + '/' + name)}"


def _sending_organisation(instance: WorkflowInstance, spec: dict[str, Any]) -> str:
    receiving_slot = spec["participant"]["organisation"]
    for slot, organisation in instance.organisations.items():
        if slot != receiving_slot:
            return str(organisation)
    return str(instance.organisations[receiving_slot])
