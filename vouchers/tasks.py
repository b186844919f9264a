"""Celery tasks of the vouchers app: thin, safe to run twice.

The voucher's payment worker keeps its names of before issue 15
(`payments.tasks.pay_intent`, `payments.tasks.sweep_payment_intents`): the
routes (payments queue), the beat and messages already queued find it by name.
"""

import os
import socket

from celery import shared_task


@shared_task(name="vouchers.tasks.escalate_due_vouchers")
def escalate_due_vouchers() -> int:
    """Tell the offices' leaders of vouchers overdue or due within 8 hours (once
    per voucher, due time and state: vouchers.services.vouchers_escalate_due)."""
    from vouchers.services import vouchers_escalate_due

    return vouchers_escalate_due()


@shared_task(bind=True, name="payments.tasks.pay_intent")
def pay_intent(self, intent_id: int) -> str:  # noqa: ANN001
    from vouchers.payment.services import payment_intent_process

    worker = f"{socket.gethostname()}:{os.getpid()}:{self.request.id or '-'}"
    intent = payment_intent_process(intent_id=intent_id, worker=worker)
    return "skipped" if intent is None else intent.status


@shared_task(name="payments.tasks.sweep_payment_intents")
def sweep_payment_intents() -> int:
    from vouchers.payment.services import payment_intents_sweep

    return len(payment_intents_sweep())
