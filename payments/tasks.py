"""Celery tasks of the payments app: thin, take ids, safe to run twice.

Queues (settings.CELERY_TASK_ROUTES): pay_* and sweep_* → payments,
deliver_* → notifications, render_* → documents.

The voucher's pay worker (`pay_intent`, `sweep_payment_intents`), its result
PDF (`render_result_pdf`) and the documents' sweep (`sweep_documents`) live with
the voucher's payment in vouchers/tasks.py, under its old names `payments.tasks.*`
(routes, the beat and queued messages know it by name); so do autopay's
(`sweep_autopay`, `pay_autopay_batches`) in autopay/tasks.py.
"""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


def enqueue(task, *args) -> None:  # noqa: ANN001
    """Queue a task from an on_commit callback without ever failing the caller:
    if the broker is unreachable the row that asked for the work (intent,
    delivery, paid voucher) is still there and a sweeper queues it again."""
    app = task.app
    try:
        if app.conf.task_always_eager:
            task.apply_async(args=args)
            return
        # Fail fast when the broker is down (kombu would otherwise retry for
        # seconds on the request's thread): the sweepers make up for it.
        with app.pool.acquire(block=True, timeout=2) as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0.2, timeout=2)
            task.apply_async(args=args, connection=connection, retry=False)
    except Exception:  # noqa: BLE001 - the sweepers make up for a lost message
        logger.warning("could not queue %s%r; the sweeper will pick it up", task.name, args, exc_info=True)


@shared_task(name="payments.tasks.deliver_notifications")
def deliver_notifications(gate_until: float | None = None) -> int:
    """Drain the events committed since into notifications, then deliver (again
    when the wake-up gate opens, `gate_until`)."""
    from payments.services.notifications import notifications_run

    return notifications_run(gate_until=gate_until)


@shared_task(name="payments.tasks.sweep_notifications")
def sweep_notifications() -> int:
    """Drain and deliver what is still pending (its wake-up was lost, the gate
    was shut, or Redis was down)."""
    from payments.services.notifications import notifications_run

    return notifications_run()


@shared_task(name="payments.tasks.render_debit_advice")
def render_debit_advice(transfer_id: int) -> str:
    from payments.services.documents import debit_advice_render

    document = debit_advice_render(transfer_id=transfer_id)
    return document.sha256 if document else "skipped"


@shared_task(name="payments.tasks.close_fiscal_year")
def close_fiscal_year(close_id: int) -> str:
    """Carry the open vouchers of a closing fiscal year and mark it closed (safe to run twice)."""
    from payments.services.yearend import fiscal_year_close_run

    row = fiscal_year_close_run(close_id=close_id)
    return row.state if row is not None else "missing"


@shared_task(name="payments.tasks.sweep_fiscal_year_closes")
def sweep_fiscal_year_closes() -> int:
    """Queue again the year-end closes whose task was lost."""
    from payments.services.yearend import fiscal_year_closes_sweep

    return fiscal_year_closes_sweep()
