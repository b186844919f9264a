"""`manage.py run_schedule` (make run without Redis): the beat's schedule in-process."""

from datetime import UTC, datetime, timedelta

from celery.schedules import crontab

from payments.management.commands.run_schedule import tick

SCHEDULE = {
    "often": {"task": "t.often", "schedule": timedelta(seconds=30)},
    "rarely": {"task": "t.rarely", "schedule": timedelta(minutes=10)},
    "nightly": {"task": "t.nightly", "schedule": crontab(minute="*/10", hour="0-5")},
}


def test_one_tick_runs_what_is_due_and_nothing_else():
    ran: list[str] = []
    last: dict = {}
    start = datetime(2026, 12, 5, 13, 0, 5, tzinfo=UTC)
    assert tick(SCHEDULE, last, start, ran.append) == ["often", "rarely"]  # intervals at start, not the crontab
    assert ran == ["t.often", "t.rarely"]
    ran.clear()
    assert tick(SCHEDULE, last, start + timedelta(seconds=10), ran.append) == [] and ran == []
    assert tick(SCHEDULE, last, start + timedelta(seconds=31), ran.append) == ["often"]
    assert tick(SCHEDULE, last, start + timedelta(minutes=10, seconds=1), ran.append) == ["often", "rarely"]
    assert ran == ["t.often", "t.often", "t.rarely"]


def test_a_crontab_entry_runs_in_its_hours_only():
    from django.utils import timezone

    ran: list[str] = []
    only = {"nightly": SCHEDULE["nightly"]}
    tz = timezone.get_default_timezone()
    day = datetime(2026, 12, 5, 12, 0, 30, tzinfo=tz)
    last: dict = {}
    assert tick(only, last, day, ran.append) == []
    assert tick(only, last, day + timedelta(minutes=10), ran.append) == []  # 12:10: outside 00:00–05:59
    night = datetime(2026, 12, 6, 1, 0, 30, tzinfo=tz)
    assert tick(only, last, night, ran.append) == ["nightly"]
    assert tick(only, last, night + timedelta(minutes=2), ran.append) == []
    assert tick(only, last, night + timedelta(minutes=10), ran.append) == ["nightly"]
    assert ran == ["t.nightly", "t.nightly"]


def test_every_scheduled_task_is_registered_under_its_name():
    """The beat's entries name tasks, not module paths: the voucher's pay worker
    (vouchers.tasks, issue 15) still answers to payments.tasks.sweep_payment_intents."""
    from django.conf import settings

    from payments.management.commands.run_schedule import scheduled_task

    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert scheduled_task(entry["task"]).name == entry["task"]
    assert scheduled_task("payments.tasks.pay_intent").__module__ == "vouchers.tasks"
