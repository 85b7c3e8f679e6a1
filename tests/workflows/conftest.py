"""Fixtures for the workflow engine: a migrated database, a fake clock,
staff accounts with memberships, and small definitions built in code."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from accounts.models import UserAccount
from workflows.clock import FakeClock
from workflows.definitions import Definition, compile_definition
from workflows.engine import WorkflowEngine
from workflows.routing import add_membership

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ORGANISATIONS = {"hospital": "chelmer-valley", "council": "essex-county"}
TEAMS = {"hospital": "ward-7"}


def definition(
    definition_id: str, action: list[dict[str, Any]], **extra: Any
) -> Definition:
    """Compile a definition from its action list, with working defaults."""
    document = {
        "id": definition_id,
        "version": 1,
        "title": definition_id.replace("-", " ").capitalize(),
        "sources": [{"title": "Test protocol", "url": "https://example.org/test"}],
        "organisations": ["hospital", "council"],
        "action": action,
        **extra,
    }
    return compile_definition(document)


def task(step_id: str, role: str = "rn", **extra: Any) -> dict[str, Any]:
    return {
        "id": step_id,
        "type": "task",
        "title": step_id.replace("_", " ").capitalize(),
        "participant": {"role": role, "organisation": "hospital"},
        **extra,
    }


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def workflows(migrated_engine: Engine, clock: FakeClock) -> Iterator[WorkflowEngine]:
    yield WorkflowEngine(migrated_engine, clock=clock)


def create_account(
    engine: Engine, email: str, *, memberships: list[tuple[str, str, str | None]]
) -> int:
    """Insert an account with (organisation, role, team) memberships."""
    with Session(engine) as session:
        account = UserAccount(
            email=email,
            display_name=email.split("@")[0],
            password_hash="x",
        )
        session.add(account)
        session.flush()
        assert account.id is not None
        for organisation, role, team in memberships:
            add_membership(
                session,
                account_id=account.id,
                organisation=organisation,
                role=role,
                team=team,
            )
        session.commit()
        return account.id


@pytest.fixture
def nurse(migrated_engine: Engine) -> int:
    """A nurse and healthcare assistant on ward 7 of the hospital."""
    return create_account(
        migrated_engine,
        "nurse@example.org",
        memberships=[
            ("chelmer-valley", "rn", "ward-7"),
            ("chelmer-valley", "hca", "ward-7"),
        ],
    )


def start(
    workflows: WorkflowEngine, definition_id: str, key: str = "episode-1", **extra: Any
) -> str:
    result = workflows.start(
        definition_id,
        business_key=key,
        subject_ref="PT-" + key.upper().replace("_", "-"),
        organisations=ORGANISATIONS,
        teams=TEAMS,
        **extra,
    )
    return result.instance_id


def open_tasks(
    workflows: WorkflowEngine, instance_id: str, step: str | None = None
) -> list[Any]:
    return [
        activity
        for activity in workflows.activities(instance_id)
        if activity.kind in ("task", "handoff")
        and activity.status in ("requested", "accepted", "in-progress")
        and (step is None or activity.node_id == step)
    ]
