"""A separate process that completes one branch of many parallel blocks.

Started twice by the join test, once per branch; a barrier shared by both
processes makes each pair of completions start at the same moment.
"""

from typing import Any

from passport.db import make_engine
from workflows.engine import WorkflowEngine


def complete_branch(
    database_url: str,
    account_id: int,
    task_ids: list[int],
    barrier: Any,
    errors: Any,
) -> None:
    engine = make_engine(database_url)
    workflows = WorkflowEngine(engine)
    for task_id in task_ids:
        barrier.wait(timeout=60)
        try:
            workflows.complete(task_id, account_id=account_id, values={})
        except Exception as error:  # noqa: BLE001 - reported to the parent
            errors.put(f"{task_id}: {type(error).__name__}: {error}")
    engine.dispose()
