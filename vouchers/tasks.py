"""Celery tasks of the vouchers app: thin, safe to run twice."""

from celery import shared_task


@shared_task(name="vouchers.tasks.escalate_due_vouchers")
def escalate_due_vouchers() -> int:
    """Tell the offices' leaders of vouchers overdue or due within 8 hours (once
    per voucher, due time and state: vouchers.services.vouchers_escalate_due)."""
    from vouchers.services import vouchers_escalate_due

    return vouchers_escalate_due()
