"""The workflow services of one Flask app: the engine and, optionally, an
in-process scheduler.

``PASSPORT_SCHEDULER`` chooses where timers are dispatched: ``embedded``
runs the dispatcher in the web process (the default on SQLite, the embedded
set-up), ``external`` leaves it to ``passport scheduler`` processes (the
default on PostgreSQL), ``off`` runs none. Apps made for tests
(``TESTING``) run none unless asked.
"""

import logging
import os

from flask import Flask, current_app

from workflows.engine import WorkflowEngine

logger = logging.getLogger(__name__)
EXTENSION = "workflows"


def init_workflows(app: Flask) -> None:
    """Attach a :class:`WorkflowEngine` (and maybe a scheduler) to ``app``."""
    from passport.app import platform

    engine = WorkflowEngine(platform(app).engine)
    app.extensions[EXTENSION] = engine
    mode = app.config.get("PASSPORT_SCHEDULER") or os.environ.get("PASSPORT_SCHEDULER")
    if mode is None:
        embedded = engine.engine.dialect.name == "sqlite" and not app.testing
        mode = "embedded" if embedded else "external"
    if mode not in ("embedded", "external", "off"):
        raise ValueError(
            f"PASSPORT_SCHEDULER is {mode!r}; use embedded, external or off"
        )
    if mode == "embedded":
        from workflows.dispatcher import Dispatcher
        from workflows.scheduler import WorkflowScheduler

        scheduler = WorkflowScheduler(Dispatcher(engine))
        scheduler.start()
        app.extensions["workflows.scheduler"] = scheduler
        logger.info("workflow timers dispatched in the web process")


def workflow_engine() -> WorkflowEngine:
    """Return the engine of the current app."""
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]
