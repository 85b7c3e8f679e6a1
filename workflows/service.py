"""The workflow services of one Flask app: the engine and, optionally, an
in-process scheduler.

``PASSPORT_SCHEDULER`` chooses where timers are dispatched: ``embedded``
runs the dispatcher in the web process (the default on SQLite, the embedded
set-up), ``external`` leaves it to ``passport scheduler`` processes (the
default on PostgreSQL), ``off`` runs none. Apps made for tests
(``TESTING``) run none unless asked.

The embedded dispatcher starts with the first request a process serves,
not when the app is created, so listing URLs or a gunicorn master process
never runs one. A lock file in the data folder lets only one process of the
machine run it, because an SQLite file has one writer.
"""

import fcntl
import logging
import os
import threading
from pathlib import Path
from typing import IO

from flask import Flask, current_app

from workflows.engine import WorkflowEngine

logger = logging.getLogger(__name__)
EXTENSION = "workflows"
SCHEDULER_EXTENSION = "workflows.scheduler"
LOCK_FILE = "workflow-scheduler.lock"

_start_lock = threading.Lock()


def init_workflows(app: Flask) -> None:
    """Attach a :class:`WorkflowEngine` to ``app`` and, in embedded mode,
    arrange for the dispatcher to start with the first request."""
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
        app.before_request(lambda: start_embedded_scheduler(app))


def start_embedded_scheduler(app: Flask) -> None:
    """Start the in-process dispatcher once per process, unless another
    process on this machine already runs it."""
    if SCHEDULER_EXTENSION in app.extensions:
        return
    with _start_lock:
        if SCHEDULER_EXTENSION in app.extensions:
            return
        from passport.app import platform
        from workflows.dispatcher import Dispatcher
        from workflows.scheduler import WorkflowScheduler

        lock = take_scheduler_lock(platform(app).settings.data_dir)
        if lock is None:
            app.extensions[SCHEDULER_EXTENSION] = None
            logger.info("workflow timers dispatched by another process")
            return
        scheduler = WorkflowScheduler(Dispatcher(app.extensions[EXTENSION]))
        scheduler.start()
        scheduler.lock_file = lock
        app.extensions[SCHEDULER_EXTENSION] = scheduler
        logger.info("workflow timers dispatched in the web process %s", os.getpid())


def take_scheduler_lock(data_dir: Path) -> IO[str] | None:
    """Take the machine's dispatcher lock in ``data_dir`` without waiting.

    :returns: the open lock file, which holds the lock until it is closed or
        the process ends, or None when another process holds the lock.
    """
    path = data_dir / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a")  # held open for as long as the lock is needed
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def workflow_engine() -> WorkflowEngine:
    """Return the engine of the current app."""
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]
