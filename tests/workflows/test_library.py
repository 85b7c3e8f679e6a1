"""The bundled protocols run end to end on the engine."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from tests.workflows.conftest import create_account, open_tasks
from workflows.definitions import bundled_definitions
from workflows.dispatcher import Dispatcher
from workflows.errors import FormInvalid
from workflows.models import WorkflowInstance, WorkflowOutbox
from workflows.tasks import tasks_for

ORGANISATIONS = {
    "hospital": "chelmer-valley",
    "community": "mid-essex-community",
    "council": "essex-county",
}
HOSPITAL_ROLES = [
    "registered-nurse",
    "healthcare-assistant",
    "nurse-in-charge",
    "tissue-viability-nurse",
    "doctor",
    "pharmacist",
    "physiotherapist",
    "geriatrician",
    "dietitian",
    "discharge-planning-nurse",
]
WATERLOW_16 = {
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
    "ulcer_present": "no",
}


@pytest.fixture
def library(workflows):
    for item in bundled_definitions():
        workflows.publish(item)
    return workflows


@pytest.fixture
def ward_staff(migrated_engine):
    return create_account(
        migrated_engine,
        "ward@example.org",
        memberships=[("chelmer-valley", role, "ward-7") for role in HOSPITAL_ROLES],
    )


@pytest.fixture
def partners(migrated_engine):
    return create_account(
        migrated_engine,
        "partners@example.org",
        memberships=[
            ("mid-essex-community", "community-nurse", None),
            ("mid-essex-community", "dietitian", None),
            ("mid-essex-community", "occupational-therapist", None),
            ("mid-essex-community", "memory-service", None),
            ("essex-county", "social-worker", None),
            ("essex-county", "team-manager", None),
        ],
    )


def _start(workflows, definition_id, key="episode-1"):
    return workflows.start(
        definition_id,
        business_key=key,
        subject_ref="PT-7F3K2Q",
        organisations=ORGANISATIONS,
        teams={"hospital": "ward-7"},
    ).instance_id


def _do(workflows, instance_id, step, account, values=None):
    item = open_tasks(workflows, instance_id, step)[0]
    return workflows.complete(item.id, account_id=account, values=values or {})


def _steps(workflows, instance_id):
    return sorted(t.node_id for t in open_tasks(workflows, instance_id))


def test_pressure_ulcer_high_risk_pathway(
    library, ward_staff, partners, clock, migrated_engine
):
    workflows = library
    instance_id = _start(workflows, "pressure-ulcer-prevention")
    dispatcher = Dispatcher(workflows)

    _do(workflows, instance_id, "admission_assessment", ward_staff, WATERLOW_16)
    _do(
        workflows,
        instance_id,
        "inspect_skin",
        ward_staff,
        {"worst_category": 0, "device_related_damage": False},
    )

    assert workflows.instance(instance_id).variables["repositioning_plan"] == {
        "value": 16,
        "band": "high-risk",
    }
    assert _steps(workflows, instance_id) == [
        "give_information",
        "high_spec_foam",
        "turn_high",
    ]

    clock.advance(timedelta(minutes=61))
    dispatcher.run_once()
    turn = open_tasks(workflows, instance_id, "turn_high")[0]
    assert turn.escalated_role == "nurse-in-charge"
    assert tasks_for(workflows, ward_staff)[0].overdue is True

    clock.advance(timedelta(hours=3))
    dispatcher.run_once()
    assert len(open_tasks(workflows, instance_id, "turn_high")) == 2

    workflows.signal(instance_id, "clinical-change")
    assert _steps(workflows, instance_id).count("reassess") == 1

    workflows.signal(instance_id, "discharged")
    assert _steps(workflows, instance_id) == ["give_information", "high_spec_foam"]
    _do(workflows, instance_id, "give_information", ward_staff)
    _do(workflows, instance_id, "high_spec_foam", ward_staff)

    assert _steps(workflows, instance_id) == ["community_first_visit"]
    with Session(migrated_engine) as session:
        message = session.exec(select(WorkflowOutbox)).one()
    assert message.destination == "mid-essex-community"
    _do(workflows, instance_id, "community_first_visit", partners, WATERLOW_16)
    assert workflows.instance(instance_id).status == "completed"


def test_discharge_pathway_one_assessment_deadline(
    library, ward_staff, partners, clock
):
    workflows = library
    instance_id = _start(workflows, "discharge-to-assess")
    dispatcher = Dispatcher(workflows)
    _do(workflows, instance_id, "medically_optimised", ward_staff)
    _do(
        workflows,
        instance_id,
        "recommend_pathway",
        ward_staff,
        {"pathway": 1, "carer_involved": True},
    )

    referral = open_tasks(workflows, instance_id, "council_referral")[0]
    workflows.claim(referral.id, account_id=partners)
    _do(
        workflows,
        instance_id,
        "council_referral",
        partners,
        {"outcome": "accepted", "chosen_pathway": 1},
    )
    _do(workflows, instance_id, "discharge", ward_staff)

    assessment = open_tasks(workflows, instance_id, "home_assessment")[0]
    assert assessment.organisation == "essex-county"
    assert assessment.due_at == clock.now() + timedelta(hours=72)
    assert workflows.instance(instance_id).variables["signals"] == {"discharged": 1}

    clock.advance(timedelta(hours=72, minutes=1))
    dispatcher.run_once()
    assert (
        open_tasks(workflows, instance_id, "home_assessment")[0].escalated_role
        == "team-manager"
    )
    _do(
        workflows,
        instance_id,
        "home_assessment",
        partners,
        {"long_term_care_needed": False, "safe_between_visits": True},
    )
    assert workflows.instance(instance_id).status == "completed"


def test_disputed_trusted_assessment_goes_back(library, ward_staff, partners):
    workflows = library
    instance_id = _start(workflows, "discharge-to-assess")
    _do(workflows, instance_id, "medically_optimised", ward_staff)
    _do(
        workflows,
        instance_id,
        "recommend_pathway",
        ward_staff,
        {"pathway": 3, "carer_involved": True},
    )

    _do(
        workflows,
        instance_id,
        "council_referral",
        partners,
        {
            "outcome": "disputed",
            "chosen_pathway": 1,
            "reason": "home first not yet tried",
        },
    )

    assert _steps(workflows, instance_id) == ["resolve_dispute"]


def test_falls_findings_create_interventions(library, ward_staff):
    workflows = library
    instance_id = _start(workflows, "falls-multifactorial")
    checklist = dict.fromkeys(
        [
            "cognitive_impairment",
            "continence_problem",
            "falls_history",
            "postural_instability",
            "visual_impairment",
            "medication_risk",
            "unsafe_footwear",
            "syncope",
        ],
        False,
    )
    checklist.update(postural_instability=True, falls_history=True)
    _do(workflows, instance_id, "checklist", ward_staff, checklist)
    blood_pressure = {
        "lying_systolic": 140,
        "lying_diastolic": 80,
        "standing_systolic_1min": 125,
        "standing_diastolic_1min": 78,
        "standing_systolic_3min": 118,
        "standing_diastolic_3min": 76,
        "symptomatic": True,
    }
    _do(workflows, instance_id, "lying_standing_bp", ward_staff, blood_pressure)

    variables = workflows.instance(instance_id).variables["lying_standing_bp"]
    assert variables["systolic_drop"] == 22
    assert variables["orthostatic_hypotension"] is True
    assert _steps(workflows, instance_id) == [
        "home_hazard_visit",
        "orthostatic_review",
        "physiotherapy",
    ]


def test_four_at_bands_and_allowed_points(library, ward_staff):
    workflows = library
    instance_id = _start(workflows, "delirium-4at")
    _do(
        workflows,
        instance_id,
        "risk_check",
        ward_staff,
        {
            "age_65_or_over": True,
            "cognitive_impairment_or_dementia": False,
            "hip_fracture": False,
            "severe_illness": False,
        },
    )
    four_at = open_tasks(workflows, instance_id, "four_at")[0]

    with pytest.raises(FormInvalid, match="2 is not one of the allowed values 0, 4"):
        workflows.complete(
            four_at.id,
            account_id=ward_staff,
            values={"alertness": 2, "amt4": 1, "attention": 0, "acute_change": 0},
        )
    workflows.complete(
        four_at.id,
        account_id=ward_staff,
        values={"alertness": 4, "amt4": 1, "attention": 0, "acute_change": 0},
    )

    assert (
        workflows.instance(instance_id).variables["four_at_result"]["band"]
        == "possible-delirium"
    )
    assert "delirium_assessment" in _steps(workflows, instance_id)


def test_must_high_risk_hands_off_dietitian(library, ward_staff, partners):
    workflows = library
    instance_id = _start(workflows, "nutrition-must")

    _do(
        workflows,
        instance_id,
        "admission_screen",
        ward_staff,
        {
            "bmi_score": 1,
            "weight_loss_score": 1,
            "acute_disease_score": 0,
            "feeding_tube_started": False,
        },
    )

    referral = open_tasks(workflows, instance_id, "dietitian_referral")[0]
    assert referral.organisation == "mid-essex-community"
    assert _steps(workflows, instance_id) == ["dietitian_referral"]
    workflows.claim(referral.id, account_id=partners)
    assert _steps(workflows, instance_id) == ["dietitian_referral", "set_goals"]


def test_frailty_screen_starts_protocols_and_cga(library, ward_staff, migrated_engine):
    workflows = library
    instance_id = _start(workflows, "frailty-admission")

    _do(
        workflows,
        instance_id,
        "frailty_screen",
        ward_staff,
        {
            "cfs_level": 6,
            "falls": True,
            "delirium": False,
            "incontinence": False,
            "immobility": False,
            "transfer_of_care": False,
        },
    )

    with Session(migrated_engine) as session:
        called = sorted(
            instance.definition_id
            for instance in session.exec(
                select(WorkflowInstance).where(WorkflowInstance.id != instance_id)
            )
        )
    assert called == [
        "delirium-4at",
        "discharge-to-assess",
        "falls-multifactorial",
        "nutrition-must",
        "pressure-ulcer-prevention",
    ]
    assert _steps(workflows, instance_id) == ["cga_referral"]
