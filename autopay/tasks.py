"""Celery tasks of autopay: thin, take ids, safe to run twice. Their names
are those they had in payments (the beat's schedule, the routes and queued
messages use them): payments.tasks.sweep_autopay and pay_autopay_batches run on
the payments queue (settings.CELERY_TASK_ROUTES)."""

from celery import shared_task

from payments.tasks import enqueue


@shared_task(name="payments.tasks.sweep_autopay")
def sweep_autopay() -> int:
    """The beat's autopay run: starts a run (unless one is under way) and fans
    its batches out to AUTOPAY_WORKERS tasks on the payments queue."""
    from django.conf import settings

    from autopay.services import autopay_runs_start_scheduled

    run = autopay_runs_start_scheduled(workers=settings.AUTOPAY_WORKERS)
    return run.pk if run else 0


@shared_task(name="payments.tasks.pay_autopay_batches")
def pay_autopay_batches(run_id: int) -> int:
    """Settle batches of the run until none is pending; several at once take
    different invoices (SKIP LOCKED), a repeat finds nothing left. Stops after
    AUTOPAY_TASK_SECONDS (below the task's time limit) and queues itself again."""
    from django.conf import settings

    from autopay.models import InvoiceStatus, SupplierInvoice
    from autopay.services import autopay_run_batches

    settled = autopay_run_batches(
        run_id=run_id, batch_size=settings.AUTOPAY_BATCH_SIZE, max_seconds=settings.AUTOPAY_TASK_SECONDS
    )
    if settled and SupplierInvoice.objects.filter(status=InvoiceStatus.PENDING).exists():
        enqueue(pay_autopay_batches, run_id)
    return settled
