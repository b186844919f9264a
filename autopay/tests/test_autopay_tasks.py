"""The scheduled run (beat → sweep_autopay → pay_autopay_batches on the
payments queue) and `manage.py run_autopay`: safe to run twice."""

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from autopay.models import AutopayRun, InvoiceStatus, SupplierInvoice
from autopay.tasks import pay_autopay_batches, sweep_autopay
from autopay.tests.autopay_kit import autopay_kit

pytestmark = pytest.mark.django_db


@pytest.fixture
def kit(world):  # noqa: ANN001, ANN201
    kit = autopay_kit(world)
    kit.active_authorization(codes=("T1", "T2"))
    return kit


def test_the_beat_starts_a_run_and_its_batch_tasks_settle_it(kit, django_capture_on_commit_callbacks):
    invoices = [kit.invoice(code, 100_000) for code in ("T1", "T2", "T1")]
    with django_capture_on_commit_callbacks(execute=True):
        run_id = sweep_autopay()
    run = AutopayRun.objects.get(pk=run_id)
    assert (run.total, run.processed, run.paid) == (3, 3, 3) and run.finished_at
    assert not SupplierInvoice.objects.filter(pk__in=[i.pk for i in invoices], status=InvoiceStatus.PENDING).exists()
    # Nothing pending: the beat starts nothing; a repeated batch task settles nothing.
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_autopay() == 0
    assert pay_autopay_batches(run_id) == 0


def test_the_schedule_and_the_queue(kit):
    assert settings.CELERY_BEAT_SCHEDULE["sweep-autopay"]["task"] == "payments.tasks.sweep_autopay"
    from treasury_portal.celery import app

    for name in ("payments.tasks.sweep_autopay", "payments.tasks.pay_autopay_batches"):
        assert app.amqp.router.route({}, name)["queue"].name.endswith("payments"), name


def test_the_command_runs_once_and_prints_the_counts(kit):
    kit.invoice("T1", 250_000)
    kit.invoice("NOBODY", 1_000)
    out = StringIO()
    call_command("run_autopay", stdout=out)
    assert "2 invoices processed, 1 paid (250.000 đồng), 1 exceptions" in out.getvalue()
    out = StringIO()
    call_command("run_autopay", stdout=out)
    assert "0 invoices processed" in out.getvalue()


# --- a run's lease ---------------------------------------------------------------------


def _crashed_run(kit, minutes_ago: int):  # noqa: ANN001, ANN202
    """A scheduled run whose worker settled one batch and was killed `minutes_ago`."""
    from datetime import timedelta

    from django.utils import timezone

    from autopay import services as autopay

    run = autopay.autopay_run_start(trigger="schedule")
    assert autopay.autopay_settle_batch(run=run, batch_size=1) == 1
    then = timezone.now() - timedelta(minutes=minutes_ago)
    AutopayRun.objects.filter(pk=run.pk).update(started_at=then, heartbeat_at=then)
    return run


def test_a_run_whose_worker_died_is_abandoned_and_the_next_run_takes_its_invoices(
    kit, django_capture_on_commit_callbacks
):
    from autopay.models import AutopayEvent, RunStatus

    invoices = [kit.invoice(code, 100_000, period=f"{kit.fiscal_year}-0{m}") for m in (1, 2) for code in ("T1", "T2")]
    crashed = _crashed_run(kit, minutes_ago=6)  # silent longer than the 5-minute lease
    with django_capture_on_commit_callbacks(execute=True):
        run_id = sweep_autopay()
    assert run_id and run_id != crashed.pk
    crashed.refresh_from_db()
    assert crashed.status == RunStatus.ABANDONED and crashed.finished_at
    assert (crashed.processed, crashed.paid) == (1, 1)
    event = AutopayEvent.objects.get(run=crashed)
    assert (event.action, event.from_status, event.to_status) == ("run_abandoned", "running", "abandoned")
    assert event.data["lease_seconds"] == settings.AUTOPAY_RUN_LEASE and event.data["processed"] == 1
    new = AutopayRun.objects.get(pk=run_id)
    assert new.status == RunStatus.FINISHED and (new.total, new.paid) == (3, 3)
    assert not SupplierInvoice.objects.filter(pk__in=[i.pk for i in invoices], status=InvoiceStatus.PENDING).exists()
    # A late batch task of the abandoned run does nothing.
    assert pay_autopay_batches(crashed.pk) == 0
    crashed.refresh_from_db()
    assert crashed.status == RunStatus.ABANDONED


def test_a_live_run_blocks_the_next_start_however_long_it_runs(kit, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from autopay import services as autopay
    from autopay.models import RunStatus

    kit.invoice("T1", 100_000)
    kit.invoice("T2", 100_000)
    live = _crashed_run(kit, minutes_ago=25)  # started 25 minutes ago…
    assert autopay._run_heartbeat(live.pk)  # …and its last batch just ended: alive
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_autopay() == 0
    assert AutopayRun.objects.filter(status=RunStatus.RUNNING).count() == 1
    live.refresh_from_db()
    assert live.status == RunStatus.RUNNING and live.finished_at is None
    # Just inside the lease it still blocks; just past it, it is abandoned and a new run starts.
    lease = timedelta(seconds=settings.AUTOPAY_RUN_LEASE)
    AutopayRun.objects.filter(pk=live.pk).update(heartbeat_at=timezone.now() - lease + timedelta(seconds=30))
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_autopay() == 0
    AutopayRun.objects.filter(pk=live.pk).update(heartbeat_at=timezone.now() - lease - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_autopay() != 0
    assert list(AutopayRun.objects.order_by("pk").values_list("status", flat=True)) == ["abandoned", "finished"]


def test_the_moved_tasks_keep_their_names_and_run_from_the_schedule():
    """autopay.tasks registers the tasks under their payments.tasks.* names (queued
    messages and the beat's entry name them); run_schedule finds them by name."""
    from payments.management.commands.run_schedule import scheduled_task

    for task in (sweep_autopay, pay_autopay_batches):
        assert task.name.startswith("payments.tasks.")
        assert scheduled_task(task.name).name == task.name
    assert scheduled_task(settings.CELERY_BEAT_SCHEDULE["sweep-autopay"]["task"]).name == sweep_autopay.name


def test_one_pass_of_run_schedule_runs_the_real_schedule(world, settings, django_capture_on_commit_callbacks):
    """Tasks run eagerly in-process: the autopay sweep pays the pending invoice
    (moved from payments/tests/test_run_schedule.py)."""
    settings.CELERY_BEAT_SCHEDULE = {
        k: v for k, v in settings.CELERY_BEAT_SCHEDULE.items() if k in {"sweep-autopay", "sweep-notifications"}
    }
    kit = autopay_kit(world)
    kit.active_authorization(codes=("S1",))
    invoice = kit.invoice("S1", 120_000)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):  # the run's batch tasks, queued on commit
        call_command("run_schedule", "--once", stdout=out)
    assert "sweep-autopay" in out.getvalue() and "sweep-notifications" in out.getvalue()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert AutopayRun.objects.get().status == "finished"
    assert not SupplierInvoice.objects.filter(status=InvoiceStatus.PENDING).exists()
