"""The care pages and JSON API through the real app, sign-in and CSRF."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from accounts.models import UserAccount
from passport.db import make_engine
from tests.web_support import csrf_token, sign_in
from workflows.clock import FakeClock
from workflows.definitions import bundled_definitions
from workflows.engine import WorkflowEngine
from workflows.routing import add_membership

SUBJECT = "PT-7F3K2Q"
WATERLOW = {
    "build": 1,
    "skin": 1,
    "sex": 2,
    "age": 5,
    "continence": 1,
    "mobility": 3,
    "appetite": 1,
    "tissue_malnutrition": 0,
    "neurological_deficit": 0,
    "surgery_or_trauma": 0,
    "medication": 2,
    "ulcer_present": False,
}
ORGANISATIONS = {"hospital": "chelmer-valley", "community": "mid-essex-community"}


@pytest.fixture
def care(seeded):
    """The bundled protocols, a nurse on ward 7, a nurse on ward 9, and a
    pressure ulcer instance on ward 7 started seven hours ago."""
    engine = make_engine(seeded.settings.database_url)
    with Session(engine) as session:
        ids = {
            account.email: account.id for account in session.exec(select(UserAccount))
        }
        for role in ("registered-nurse", "healthcare-assistant"):
            add_membership(
                session,
                account_id=ids[seeded.staff_email],
                organisation="chelmer-valley",
                role=role,
                team="ward-7",
            )
        add_membership(
            session,
            account_id=ids[seeded.other_staff_email],
            organisation="chelmer-valley",
            role="registered-nurse",
            team="ward-9",
        )
        session.commit()
    earlier = WorkflowEngine(
        engine, clock=FakeClock(datetime.now(UTC) - timedelta(hours=7))
    )
    for item in bundled_definitions():
        earlier.publish(item)
    instance_id = earlier.start(
        "pressure-ulcer-prevention",
        business_key="EP-1001",
        subject_ref=SUBJECT,
        organisations=ORGANISATIONS,
        teams={"hospital": "ward-7"},
    ).instance_id
    yield {"engine": WorkflowEngine(engine), "instance": instance_id, "ids": ids}
    engine.dispose()


def _task_id(care, step):
    activities = care["engine"].activities(care["instance"])
    return next(
        a.id for a in activities if a.node_id == step and a.status == "requested"
    )


def test_tasks_page_needs_sign_in(client):
    response = client.get("/care/tasks")

    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_my_tasks_shows_overdue_first(client, seeded, care):
    sign_in(client, seeded.staff_email)

    page = client.get("/care/tasks").get_data(as_text=True)

    assert "Pressure ulcer risk assessment (Waterlow)" in page
    assert "care-task--overdue" in page
    assert "Overdue" in page
    assert SUBJECT in page
    assert "ward-7 · registered-nurse" in page


def test_my_tasks_links_ward_metrics(client, seeded, care):
    sign_in(client, seeded.staff_email)

    page = client.get("/care/tasks").get_data(as_text=True)

    assert 'href="/care/wards/chelmer-valley/ward-7"' in page


def test_other_ward_nurse_sees_nothing(client, seeded, care):
    sign_in(client, seeded.other_staff_email)

    page = client.get("/care/tasks").get_data(as_text=True)

    assert "Pressure ulcer risk assessment" not in page
    assert "No open tasks" in page


def test_recording_score_validates_range(client, seeded, care):
    sign_in(client, seeded.staff_email)
    task_id = _task_id(care, "admission_assessment")
    path = f"/care/tasks/{task_id}"
    token = csrf_token(client, path)
    values = {
        "build": "7",
        "skin": "1",
        "sex": "2",
        "age": "5",
        "continence": "1",
        "mobility": "3",
        "appetite": "1",
        "tissue_malnutrition": "0",
        "neurological_deficit": "0",
        "surgery_or_trauma": "0",
        "medication": "2",
        "ulcer_present": "no",
    }

    refused = client.post(path, data={**values, "csrf_token": token})
    values["build"] = "1"
    accepted = client.post(
        path, data={**values, "csrf_token": token, "request_key": "page-key-0001"}
    )

    assert refused.status_code == 422
    assert "field &#39;build&#39;: 7 is outside the range 0 to 3" in refused.get_data(
        as_text=True
    )
    assert accepted.status_code == 302
    variables = care["engine"].instance(care["instance"]).variables
    assert variables["admission_assessment"]["total"] == 16


def test_form_post_without_csrf_rejected(client, seeded, care):
    sign_in(client, seeded.staff_email)
    task_id = _task_id(care, "admission_assessment")

    response = client.post(f"/care/tasks/{task_id}", data={"build": "1"})

    assert response.status_code == 400
    assert care["engine"].count_events(care["instance"], "task.completed") == 0


def test_other_ward_cannot_complete(client, seeded, care):
    sign_in(client, seeded.other_staff_email)
    task_id = _task_id(care, "admission_assessment")
    token = csrf_token(client, f"/care/tasks/{task_id}")
    values = {key: str(value) for key, value in WATERLOW.items()}

    response = client.post(
        f"/care/tasks/{task_id}",
        data={"csrf_token": token, **values},
        follow_redirects=True,
    )

    assert "does not hold there" in response.get_data(as_text=True)
    assert care["engine"].count_events(care["instance"], "task.completed") == 0


def test_timeline_by_pseudonymous_reference(client, seeded, care):
    sign_in(client, seeded.staff_email)

    page = client.get(f"/care/patients/{SUBJECT}").get_data(as_text=True)

    assert f"Patient {SUBJECT}" in page
    assert "instance.started" in page
    assert "pressure-ulcer-prevention" in page


def test_timeline_shows_labels_words_and_names(client, seeded, care):
    """Recorded values show field labels and Yes/No, and the actor's name."""
    care["engine"].complete(
        _task_id(care, "admission_assessment"),
        account_id=care["ids"][seeded.staff_email],
        values=WATERLOW,
    )
    sign_in(client, seeded.staff_email)

    page = client.get(f"/care/patients/{SUBJECT}").get_data(as_text=True)

    assert "Ulcer present: No" in page
    assert "Tissue malnutrition: 0" in page
    assert "Total: 16" in page
    assert "ulcer_present False" not in page
    assert "Chloé STUB" in page
    assert "account:" not in page
    assert "<td>System</td>" in page


def test_timeline_hidden_from_other_organisations(client, seeded, care):
    sign_in(client, seeded.hr_email)

    assert client.get(f"/care/patients/{SUBJECT}").status_code == 404


def test_protocol_drawn_as_diagram(client, seeded, care):
    sign_in(client, seeded.staff_email)

    page = client.get("/care/protocols/pressure-ulcer-prevention").get_data(
        as_text=True
    )

    assert '<svg xmlns="http://www.w3.org/2000/svg" class="protocol-diagram"' in page
    assert "every PT4H" in page
    assert "nice.org.uk" in page
    assert "<script" not in page


def test_ward_metrics_charts(client, seeded, care):
    sign_in(client, seeded.staff_email)

    page = client.get("/care/wards/chelmer-valley/ward-7").get_data(as_text=True)

    assert page.count('class="chart"') == 4
    assert "Screened within 6 hours" in page
    assert "http://" not in re.sub(
        r'xmlns="http://www.w3.org/2000/svg"', "", page.split("<main", 1)[1]
    )


def test_ward_metrics_forbidden_without_membership(client, seeded, care):
    sign_in(client, seeded.hr_email)

    assert client.get("/care/wards/chelmer-valley/ward-7").status_code == 403


def test_api_complete_is_idempotent(client, seeded, care):
    sign_in(client, seeded.staff_email)
    task_id = _task_id(care, "admission_assessment")
    token = csrf_token(client, f"/care/tasks/{task_id}")
    headers = {"X-CSRFToken": token, "Idempotency-Key": "tablet-9c2e-0001"}
    body = {"values": WATERLOW}

    first = client.post(
        f"/api/care/tasks/{task_id}/complete", json=body, headers=headers
    )
    second = client.post(
        f"/api/care/tasks/{task_id}/complete", json=body, headers=headers
    )

    assert first.status_code == 200
    assert second.get_json() == first.get_json()
    assert care["engine"].count_events(care["instance"], "task.completed") == 1


def test_api_reports_form_errors(client, seeded, care):
    sign_in(client, seeded.staff_email)
    task_id = _task_id(care, "admission_assessment")
    token = csrf_token(client, f"/care/tasks/{task_id}")

    response = client.post(
        f"/api/care/tasks/{task_id}/complete",
        json={"values": {**WATERLOW, "mobility": 9, "skin": None}},
        headers={"X-CSRFToken": token},
    )

    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert "field 'mobility': 9 is outside the range 0 to 5" in errors
    assert "field 'skin' is required" in errors


def test_api_without_csrf_rejected(client, seeded, care):
    sign_in(client, seeded.staff_email)
    task_id = _task_id(care, "admission_assessment")

    response = client.post(
        f"/api/care/tasks/{task_id}/complete", json={"values": WATERLOW}
    )

    assert response.status_code == 400


def test_api_lists_tasks_and_starts_instances(client, seeded, care):
    sign_in(client, seeded.staff_email)
    token = csrf_token(client, f"/care/tasks/{_task_id(care, 'admission_assessment')}")

    listed = client.get("/api/care/tasks?ward=ward-7").get_json()["tasks"]
    started = client.post(
        "/api/care/instances",
        json={
            "definition": "falls-multifactorial",
            "businessKey": "EP-1002",
            "subjectRef": "PT-8G4L3R",
            "organisations": ORGANISATIONS,
            "teams": {"hospital": "ward-7"},
        },
        headers={"X-CSRFToken": token},
    )
    again = client.post(
        "/api/care/instances",
        json={
            "definition": "falls-multifactorial",
            "businessKey": "EP-1002",
            "subjectRef": "PT-8G4L3R",
            "organisations": ORGANISATIONS,
            "teams": {"hospital": "ward-7"},
        },
        headers={"X-CSRFToken": token},
    )
    history = client.get(f"/api/care/instances/{care['instance']}/history").get_json()
    export = client.get("/api/care/definitions/falls-multifactorial/fhir").get_json()

    assert [task["step"] for task in listed] == ["admission_assessment"]
    assert listed[0]["overdue"] is True
    assert all(task["subjectRef"] == SUBJECT for task in listed)
    assert started.status_code == 201
    assert again.status_code == 200
    assert again.get_json()["instance"] == started.get_json()["instance"]
    assert history["events"][0]["kind"] == "instance.started"
    assert export["resourceType"] == "PlanDefinition"


def test_api_start_rejects_nhs_number(client, seeded, care):
    sign_in(client, seeded.staff_email)
    token = csrf_token(client, f"/care/tasks/{_task_id(care, 'admission_assessment')}")

    response = client.post(
        "/api/care/instances",
        json={
            "definition": "falls-multifactorial",
            "businessKey": "EP-1003",
            "subjectRef": "4857773456",
            "organisations": ORGANISATIONS,
        },
        headers={"X-CSRFToken": token},
    )

    assert response.status_code == 400
    assert "NHS number is never accepted" in response.get_json()["message"]


def test_embedded_scheduler_fires_in_web_process(seeded, care):
    import time

    from passport.app import create_app
    from tests.workflows.conftest import definition

    app = create_app(
        {"SETTINGS": seeded.settings, "TESTING": True, "PASSPORT_SCHEDULER": "embedded"}
    )
    assert "workflows.scheduler" not in app.extensions
    app.test_client().get("/sign-in")
    scheduler = app.extensions["workflows.scheduler"]
    workflows = app.extensions["workflows"]
    try:
        assert scheduler.scheduler.running
        workflows.publish(
            definition(
                "short-wait",
                [{"id": "pause", "type": "wait", "timing": {"duration": "PT1S"}}],
            )
        )
        instance_id = workflows.start(
            "short-wait",
            business_key="EP-WAIT",
            subject_ref="PT-WAIT",
            organisations={"hospital": "chelmer-valley", "council": "essex-county"},
        ).instance_id
        deadline = time.monotonic() + 60
        while (
            workflows.instance(instance_id).status != "completed"
            and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        second = create_app(
            {
                "SETTINGS": seeded.settings,
                "TESTING": True,
                "PASSPORT_SCHEDULER": "embedded",
            }
        )
        second.test_client().get("/sign-in")
        assert second.extensions["workflows.scheduler"] is None
    finally:
        scheduler.shutdown()
    assert workflows.instance(instance_id).status == "completed"
    assert workflows.count_events(instance_id, "wait.completed") == 1


def test_unknown_scheduler_mode_rejected(seeded):
    from passport.app import create_app

    with pytest.raises(ValueError, match="PASSPORT_SCHEDULER is 'sometimes'"):
        create_app(
            {
                "SETTINGS": seeded.settings,
                "TESTING": True,
                "PASSPORT_SCHEDULER": "sometimes",
            }
        )


def test_api_start_rejects_bad_types(client, seeded, care):
    sign_in(client, seeded.staff_email)
    token = csrf_token(client, f"/care/tasks/{_task_id(care, 'admission_assessment')}")

    response = client.post(
        "/api/care/instances",
        json={
            "definition": "falls-multifactorial",
            "businessKey": "EP-1004",
            "subjectRef": "PT-9H5M4S",
            "organisations": ORGANISATIONS,
            "version": "1",
        },
        headers={"X-CSRFToken": token},
    )

    assert response.status_code == 400
    assert "'version' must be a whole number, got '1'" in response.get_json()["message"]


def test_task_page_hidden_from_other_organisations(client, seeded, care):
    sign_in(client, seeded.hr_email)

    response = client.get(f"/care/tasks/{_task_id(care, 'admission_assessment')}")

    assert response.status_code == 404
    assert SUBJECT not in response.get_data(as_text=True)


def _api_post(client, care, path, body):
    """POST raw JSON text to the care API with a CSRF token."""
    token = csrf_token(client, f"/care/tasks/{_task_id(care, 'admission_assessment')}")
    return client.post(
        path,
        data=body,
        headers={"X-CSRFToken": token, "Content-Type": "application/json"},
    )


@pytest.mark.parametrize("key", ["12345678", "[1, 2, 3, 4, 5, 6, 7, 8]", "{}"])
def test_api_request_key_not_text_400(client, seeded, care, key):
    sign_in(client, seeded.staff_email)
    task_id = _task_id(care, "admission_assessment")
    body = f'{{"values": {{}}, "requestKey": {key}}}'

    response = _api_post(client, care, f"/api/care/tasks/{task_id}/complete", body)

    assert response.status_code == 400
    assert "request key must be text" in response.get_json()["message"]


def test_api_huge_integer_value_422(client, seeded, care):
    sign_in(client, seeded.staff_email)
    task_id = _task_id(care, "admission_assessment")
    body = '{"values": {"build": ' + "9" * 400 + "}}"

    response = _api_post(client, care, f"/api/care/tasks/{task_id}/complete", body)

    assert response.status_code == 422
    assert any(
        error.startswith("field 'build': expected a finite number")
        for error in response.get_json()["errors"]
    )


@pytest.mark.parametrize("path", ["/api/care/instances", "/api/care/tasks/{}/complete"])
def test_api_deeply_nested_body_400(client, seeded, care, path):
    sign_in(client, seeded.staff_email)
    path = path.format(_task_id(care, "admission_assessment"))

    response = _api_post(client, care, path, "[" * 50000 + "]" * 50000)

    assert response.status_code == 400
    assert "nested too deeply" in response.get_json()["message"]


def test_huge_ids_not_found(client, seeded, care):
    sign_in(client, seeded.staff_email)
    huge = "9" * 30
    token = csrf_token(client, f"/care/tasks/{_task_id(care, 'admission_assessment')}")

    claim = client.post(f"/api/care/tasks/{huge}/claim", headers={"X-CSRFToken": token})
    page = client.get(f"/care/tasks/{huge}")
    export = client.get(
        f"/api/care/definitions/falls-multifactorial/fhir?version={huge}"
    )
    diagram = client.get(f"/care/protocols/falls-multifactorial?version={huge}")

    assert claim.status_code == 404
    assert page.status_code == 404
    assert export.status_code == 404
    assert diagram.status_code == 404


def _start_body(business_key, **extra):
    return {
        "definition": "falls-multifactorial",
        "businessKey": business_key,
        "subjectRef": "PT-9H5M4S",
        "organisations": ORGANISATIONS,
        **extra,
    }


def test_api_start_huge_version_404(client, seeded, care):
    sign_in(client, seeded.staff_email)
    body = _start_body("EP-1005", version=10**30)

    response = _api_post(client, care, "/api/care/instances", json.dumps(body))

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"signals": "none"}, "'signals'"),
        ({"checklist": {"falls_history": True}}, "'checklist'"),
        ({"deep": json.loads("[" * 40 + "]" * 40)}, "nests deeper than 16"),
    ],
)
def test_api_start_rejects_reserved_data(client, seeded, care, data, fragment):
    sign_in(client, seeded.staff_email)
    body = _start_body("EP-1006", data=data)

    response = _api_post(client, care, "/api/care/instances", json.dumps(body))

    assert response.status_code == 400
    assert fragment in response.get_json()["message"]


def test_task_form_bad_request_key(client, seeded, care):
    sign_in(client, seeded.staff_email)
    path = f"/care/tasks/{_task_id(care, 'admission_assessment')}"
    token = csrf_token(client, path)
    form = {key: str(value) for key, value in WATERLOW.items()}

    response = client.post(
        path, data={**form, "csrf_token": token, "request_key": "short"}
    )

    assert response.status_code == 302
    assert care["engine"].count_events(care["instance"], "task.completed") == 0


@pytest.mark.parametrize("instance", ["", "not-an-instance"])
def test_signal_unknown_instance_404(client, seeded, care, instance):
    sign_in(client, seeded.staff_email)
    path = f"/care/patients/{SUBJECT}"
    token = csrf_token(client, path)

    response = client.post(
        f"{path}/signals",
        data={"csrf_token": token, "signal": "clinical-change", "instance": instance},
    )

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"organisations": {**ORGANISATIONS, "community": "x" * 65}}, "1 to 64"),
        ({"teams": {"hospital": "w" * 65}}, "1 to 64"),
        ({"organisations": {**ORGANISATIONS, "community": ["x"]}}, "text"),
        ({"teams": {"hospital": {"ward": 7}}}, "text"),
    ],
)
def test_api_start_rejects_bad_slots(client, seeded, care, changes, fragment):
    sign_in(client, seeded.staff_email)
    body = _start_body("EP-1007", **changes)

    response = _api_post(client, care, "/api/care/instances", json.dumps(body))

    assert response.status_code == 400
    assert fragment in response.get_json()["message"]


@pytest.mark.parametrize("action", ["claim", "complete"])
def test_api_task_hidden_from_other_organisations(client, seeded, care, action):
    sign_in(client, seeded.hr_email)
    task_id = _task_id(care, "admission_assessment")
    token = csrf_token(client, "/care/tasks")

    response = client.post(
        f"/api/care/tasks/{task_id}/{action}",
        json={"values": {}},
        headers={"X-CSRFToken": token},
    )

    assert response.status_code == 404
    assert "chelmer-valley" not in response.get_data(as_text=True)


def test_api_start_hides_other_organisations_key(client, seeded, care):
    with Session(care["engine"].engine) as session:
        add_membership(
            session,
            account_id=care["ids"][seeded.hr_email],
            organisation="colne-estuary",
            role="registered-nurse",
            team="ward-2",
        )
        session.commit()
    sign_in(client, seeded.hr_email)
    token = csrf_token(client, "/care/tasks")

    response = client.post(
        "/api/care/instances",
        json={
            "definition": "pressure-ulcer-prevention",
            "businessKey": "EP-1001",
            "subjectRef": "PT-2B7C9D",
            "organisations": {
                "hospital": "colne-estuary",
                "community": "colne-estuary",
            },
            "teams": {"hospital": "ward-2"},
        },
        headers={"X-CSRFToken": token},
    )

    assert response.status_code == 403
    assert care["instance"] not in response.get_data(as_text=True)
    assert "choose another key" in response.get_json()["message"]


def test_care_pages_label_learner(client, seeded, care):
    learner_ref = "LP-6KHXG6TP"
    instance_id = (
        care["engine"]
        .start(
            "pressure-ulcer-prevention",
            business_key="EP-1002",
            subject_ref=learner_ref,
            organisations=ORGANISATIONS,
            teams={"hospital": "ward-7"},
        )
        .instance_id
    )
    task_id = next(
        a.id for a in care["engine"].activities(instance_id) if a.status == "requested"
    )
    sign_in(client, seeded.staff_email)

    tasks = client.get("/care/tasks").get_data(as_text=True)
    task_page = client.get(f"/care/tasks/{task_id}").get_data(as_text=True)
    timeline_page = client.get(f"/care/patients/{learner_ref}").get_data(as_text=True)

    assert f'Learner <a href="/care/patients/{learner_ref}">' in tasks
    assert f'Patient <a href="/care/patients/{SUBJECT}">' in tasks
    assert f'<p>Learner <a href="/care/patients/{learner_ref}">' in task_page
    assert f"<h1>Learner {learner_ref}</h1>" in timeline_page
    assert "Patient" not in timeline_page


def test_programme_definition_labels_learner(seeded):
    from programmes.framework import DEFAULT_FRAMEWORK, library_path
    from workflows.definitions import parse_definition
    from workflows.tasks import programme_definitions, subject_label

    path = library_path() / f"{DEFAULT_FRAMEWORK}.yaml"
    programme = parse_definition(path.read_text(), source=path.name)
    engine = make_engine(seeded.settings.database_url)
    workflows = WorkflowEngine(engine)
    workflows.publish(programme)
    for item in bundled_definitions():
        workflows.publish(item)

    found = programme_definitions(
        workflows, {programme.id, "pressure-ulcer-prevention"}
    )
    engine.dispose()

    assert found == frozenset({programme.id})
    assert subject_label("PT-7F3K2Q", programme=True) == "Learner"
    assert subject_label("PT-7F3K2Q") == "Patient"
