"""`make run` without Redis: the beat's schedule, run in this process.

Reads settings.CELERY_BEAT_SCHEDULE and, in a loop, runs every entry that is
due eagerly (task.apply(): here, in this process; the tasks they queue run
in-process too, CELERY_TASK_ALWAYS_EAGER). Every scheduled task is safe to run
twice, so a restart that runs one early does no harm. With Redis, the Celery
beat does this instead (docker-compose, `make run` with REDIS_URL).
"""

import copy
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from celery.schedules import crontab
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)


def scheduled_task(name: str):  # noqa: ANN201 - a Celery task
    """The task registered under `name`: the apps' tasks modules, found as the
    worker finds them (a task's name need not be its module's path: the
    voucher's pay worker lives in vouchers.tasks, autopay's tasks in autopay.tasks,
    under their old `payments.tasks.*` names)."""
    from treasury_portal.celery import app

    app.loader.import_default_modules()
    return app.tasks[name]


def run_task(name: str) -> None:
    """Run one scheduled task here and now; a failure is logged, never raised."""
    try:
        scheduled_task(name).apply(throw=True)
    except Exception:
        logger.exception("scheduled task %s failed; it runs again at its next time", name)


def is_due(every: timedelta | crontab, last_run: datetime, now: datetime) -> bool:
    if isinstance(every, timedelta):
        return now - last_run >= every
    at_now = copy.copy(every)
    at_now.nowfun = lambda: now
    return at_now.is_due(last_run)[0]


def tick(
    schedule: dict, last_run: dict[str, datetime], now: datetime, run: Callable[[str], None] = run_task
) -> list[str]:
    """One pass: run the entries due at `now` (an interval entry never run yet
    is due; a crontab entry counts from `last_run`, set at start), remember
    when. Returns the names of the entries run."""
    ran = []
    for name, entry in schedule.items():
        every = entry["schedule"]
        last = last_run.get(name)
        if last is None and isinstance(every, crontab):
            last_run[name] = last = now
        if last is None or is_due(every, last, now):
            run(entry["task"])
            last_run[name] = now
            ran.append(name)
    return ran


class Command(BaseCommand):
    help = "Run the scheduled tasks (CELERY_BEAT_SCHEDULE) in this process, when no Celery beat runs (no Redis)."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--once", action="store_true", help="one pass: run what is due now, then stop")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between passes")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        last_run: dict[str, datetime] = {}
        while True:
            ran = tick(settings.CELERY_BEAT_SCHEDULE, last_run, timezone.now())
            if ran:
                self.stdout.write(f"run_schedule: {', '.join(ran)}")
            if options["once"]:
                return
            time.sleep(options["interval"])
            close_old_connections()  # as a request would: no connection kept past its age
