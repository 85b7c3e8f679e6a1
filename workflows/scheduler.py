"""APScheduler wiring: it only wakes the dispatcher; the database keeps time.

Two jobs live in APScheduler's memory job store: a poll every few seconds,
and a one-off wake-up at the earliest due time found in the database, re-armed
after every pass. Neither keeps any timer state, so wiping the job store
loses nothing: the jobs are rebuilt from the database at start and whenever
all jobs are removed.
"""

import logging
import threading
from datetime import UTC, datetime

from apscheduler.events import EVENT_ALL_JOBS_REMOVED, JobEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.exc import SQLAlchemyError

from workflows.dispatcher import Dispatcher

logger = logging.getLogger(__name__)

POLL_JOB = "workflow-dispatch-poll"
WAKE_JOB = "workflow-dispatch-wake"


class WorkflowScheduler:
    """Runs a :class:`Dispatcher` on an APScheduler scheduler.

    :param blocking: run in the calling thread (``passport scheduler``)
        instead of a background thread (in the web process).
    :param poll_seconds: how often to look for due timers even when no
        wake-up is armed, for timers that other processes created.
    """

    def __init__(
        self,
        dispatcher: Dispatcher,
        *,
        blocking: bool = False,
        poll_seconds: float = 2.0,
    ) -> None:
        self.dispatcher = dispatcher
        self.poll_seconds = poll_seconds
        self.scheduler: BaseScheduler = (
            BlockingScheduler(timezone=UTC)
            if blocking
            else BackgroundScheduler(timezone=UTC)
        )
        self.scheduler.add_listener(self._on_jobs_removed, EVENT_ALL_JOBS_REMOVED)
        self.passes = 0
        # The lock file that makes this the machine's one embedded dispatcher.
        self.lock_file: object | None = None
        self._pass_lock = threading.Lock()

    def start(self) -> None:
        """Rebuild the jobs from the database and start the scheduler."""
        self.rebuild_jobs()
        logger.info(
            "workflow scheduler %s starting, polling every %ss",
            self.dispatcher.dispatcher_id,
            self.poll_seconds,
        )
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
            logger.info("workflow scheduler %s stopped", self.dispatcher.dispatcher_id)

    def rebuild_jobs(self) -> None:
        """Add the poll job and arm the wake-up at the earliest due timer."""
        self.scheduler.add_job(
            self.dispatch,
            "interval",
            seconds=self.poll_seconds,
            id=POLL_JOB,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
        )
        self._arm_wake()

    def dispatch(self) -> None:
        """Run one dispatcher pass, then re-arm the wake-up.

        The poll and the wake-up can come due together; the second one
        returns at once instead of running a pass beside the first.
        """
        if not self._pass_lock.acquire(blocking=False):
            return
        try:
            report = self.dispatcher.run_once()
        except Exception:  # noqa: BLE001 - the scheduler must keep running
            logger.exception("workflow dispatcher pass failed; retrying at next poll")
            return
        finally:
            self._pass_lock.release()
        self.passes += 1
        if report.fired or report.failed:
            logger.info(
                "workflow dispatcher fired %s timers, %s failed",
                report.fired,
                report.failed,
            )
        self._arm_wake()

    def _arm_wake(self) -> None:
        try:
            due = self.dispatcher.next_due()
        except SQLAlchemyError:
            logger.warning(
                "workflow timers could not be read; polling every %ss",
                self.poll_seconds,
                exc_info=True,
            )
            return
        if due is None:
            return
        run_date = max(due, datetime.now(UTC))
        self.scheduler.add_job(
            self.dispatch,
            "date",
            run_date=run_date,
            id=WAKE_JOB,
            replace_existing=True,
            # The wake-up is re-armed from inside a running one; with one
            # instance allowed, APScheduler would skip the new one, and the
            # timers would wait for the next poll. The pass lock still keeps
            # passes from overlapping.
            max_instances=3,
            misfire_grace_time=None,
        )

    def _on_jobs_removed(self, event: JobEvent) -> None:
        logger.warning(
            "APScheduler job store was cleared; rebuilding from the database"
        )
        self.rebuild_jobs()
