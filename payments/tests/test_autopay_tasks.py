"""The scheduled run (beat → sweep_autopay → pay_autopay_batches on the
payments queue) and `manage.py run_autopay`: safe to run twice."""

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from payments.models import AutopayRun, InvoiceStatus, SupplierInvoice
from payments.tasks import pay_autopay_batches, sweep_autopay
from payments.tests.autopay_kit import autopay_kit

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
