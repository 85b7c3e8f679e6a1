"""The workflow JSON API: start instances, list and claim tasks, complete
them, read history and export definitions.

Callers are signed in with the platform's session, so requests that change
data carry the CSRF token in the ``X-CSRFToken`` header like the pages'
forms. Task actions check the caller's team memberships.
"""

from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from accounts.auth import current_account, require_role
from workflows.access import may_see_subject, member_organisations
from workflows.errors import (
    ConcurrentChange,
    DefinitionNotFound,
    FormInvalid,
    InstanceNotFound,
    NotPermitted,
    TaskNotFound,
    TaskNotOpen,
    WorkflowError,
)
from workflows.fhir import plan_definition
from workflows.service import workflow_engine
from workflows.tasks import task_view, tasks_for

bp = Blueprint("workflows_api", __name__, url_prefix="/api/care")

STATUS_FOR = {
    FormInvalid: 422,
    NotPermitted: 403,
    TaskNotFound: 404,
    InstanceNotFound: 404,
    DefinitionNotFound: 404,
    TaskNotOpen: 409,
    ConcurrentChange: 409,
}


def _account_id() -> int:
    account = current_account()
    assert account is not None  # require_role() sent anonymous callers away
    return int(account.id)


def _error(status: int, code: str, message: str, **extra: Any) -> ResponseReturnValue:
    return jsonify(error=code, message=message, **extra), status


@bp.errorhandler(WorkflowError)
def _workflow_error(error: WorkflowError) -> ResponseReturnValue:
    status = next(
        (code for kind, code in STATUS_FOR.items() if isinstance(error, kind)), 400
    )
    extra = {"errors": error.errors} if isinstance(error, FormInvalid) else {}
    return _error(status, type(error).__name__, str(error), **extra)


def _body() -> dict[str, Any]:
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        # silent=True covers invalid JSON only, not nesting beyond the stack.
        raise WorkflowError("the JSON body is nested too deeply") from None
    if not isinstance(body, dict):
        raise WorkflowError("send a JSON object with Content-Type application/json")
    return body


@bp.post("/instances")
@require_role()
def start_instance() -> ResponseReturnValue:
    body = _body()
    organisations = body.get("organisations")
    teams = body.get("teams") or {}
    data = body.get("data") or {}
    version = body.get("version")
    if not isinstance(organisations, dict) or not organisations:
        raise WorkflowError("'organisations' must map each organisation slot to a slug")
    if not isinstance(teams, dict) or not isinstance(data, dict):
        raise WorkflowError("'teams' and 'data' must be JSON objects")
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, int)
    ):
        raise WorkflowError(f"'version' must be a whole number, got {version!r}")
    member_of = member_organisations(workflow_engine(), _account_id())
    if not member_of & {
        slug for slug in organisations.values() if isinstance(slug, str)
    }:
        raise NotPermitted("you hold no role at any organisation of this instance")
    result = workflow_engine().start(
        str(body.get("definition", "")),
        business_key=str(body.get("businessKey", "")),
        subject_ref=str(body.get("subjectRef", "")),
        organisations=organisations,
        teams=teams,
        data=data,
        version=version,
        account_id=_account_id(),
    )
    if not result.created:
        existing = workflow_engine().instance(result.instance_id)
        if not may_see_subject(workflow_engine(), _account_id(), existing.subject_ref):
            # Another organisation's instance uses the key. Its id is not
            # returned, because the caller has no role there.
            raise NotPermitted(
                "this business key is already used by an instance at "
                "organisations you hold no role at; choose another key"
            )
    payload = {"instance": result.instance_id, "created": result.created}
    return jsonify(payload), 201 if result.created else 200


@bp.get("/tasks")
@require_role()
def list_tasks() -> ResponseReturnValue:
    views = tasks_for(
        workflow_engine(),
        _account_id(),
        ward=request.args.get("ward") or None,
        role=request.args.get("role") or None,
    )
    return jsonify(tasks=[view.to_json() for view in views])


def _check_task_visible(task_id: int) -> None:
    """Raise TaskNotFound for a task of a patient the account has no role for.

    The engine's NotPermitted names the task's role and organisation, which
    only accounts caring for the patient may learn, as on the task page.
    """
    view = task_view(workflow_engine(), task_id)
    if view is None or not may_see_subject(
        workflow_engine(), _account_id(), view.subject_ref
    ):
        raise TaskNotFound(f"no task {task_id}")


@bp.post("/tasks/<int:task_id>/claim")
@require_role()
def claim_task(task_id: int) -> ResponseReturnValue:
    _check_task_visible(task_id)
    workflow_engine().claim(task_id, account_id=_account_id())
    view = task_view(workflow_engine(), task_id)
    assert view is not None
    return jsonify(view.to_json())


@bp.post("/tasks/<int:task_id>/complete")
@require_role()
def complete_task(task_id: int) -> ResponseReturnValue:
    _check_task_visible(task_id)
    body = _body()
    values = body.get("values") or {}
    if not isinstance(values, dict):
        raise FormInvalid(["'values' must be a JSON object of field values"])
    key = request.headers.get("Idempotency-Key") or body.get("requestKey")
    response = workflow_engine().complete(
        task_id, account_id=_account_id(), values=values, request_key=key
    )
    return jsonify(response)


@bp.get("/instances/<instance_id>/history")
@require_role()
def instance_history(instance_id: str) -> ResponseReturnValue:
    workflows = workflow_engine()
    instance = workflows.instance(instance_id)
    if not may_see_subject(workflows, _account_id(), instance.subject_ref):
        raise NotPermitted(
            "you hold no role at an organisation caring for this patient"
        )
    events = [
        {
            "at": event.at.isoformat(),
            "actor": event.actor,
            "kind": event.kind,
            "activity": event.activity_id,
            "data": event.data,
        }
        for event in workflows.history(instance_id)
    ]
    return jsonify(
        instance=instance.id,
        definition=instance.definition_id,
        version=instance.version,
        status=instance.status,
        holdReason=instance.hold_reason,
        events=events,
    )


@bp.post("/instances/<instance_id>/signals")
@require_role()
def send_signal(instance_id: str) -> ResponseReturnValue:
    workflows = workflow_engine()
    instance = workflows.instance(instance_id)
    if not may_see_subject(workflows, _account_id(), instance.subject_ref):
        raise NotPermitted(
            "you hold no role at an organisation caring for this patient"
        )
    started = workflows.signal(
        instance_id, str(_body().get("signal", "")), account_id=_account_id()
    )
    return jsonify(instance=instance_id, roundsStarted=started)


@bp.get("/definitions/<definition_id>/fhir")
@require_role()
def export_definition(definition_id: str) -> ResponseReturnValue:
    version = request.args.get("version", type=int)
    definition = workflow_engine().definition(definition_id, version)
    return jsonify(plan_definition(definition))
