"""Celery tasks of the vouchers app: thin, safe to run twice.

The voucher's payment worker and its result PDF keep their names of before
issue 15 (`payments.tasks.pay_intent`, `payments.tasks.sweep_payment_intents`,
`payments.tasks.render_result_pdf`, `payments.tasks.sweep_documents`): the
routes (payments and documents queues), the beat and messages already queued
find them by name.
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
    """One intent (a batch of one): the task of before the batches, for the
    messages already queued; approvals now wake pay_intents."""
    from vouchers.payment.services import payment_intent_process

    worker = f"{socket.gethostname()}:{os.getpid()}:{self.request.id or '-'}"
    intent = payment_intent_process(intent_id=intent_id, worker=worker)
    return "skipped" if intent is None else intent.status


@shared_task(bind=True, name="payments.tasks.pay_intents")
def pay_intents(self, gate_until: float | None = None) -> int:  # noqa: ANN001
    """The voucher payment batches: settle every due intent, PAYMENTS_BATCH_SIZE
    per transaction (vouchers.payment.services.payment_intents_run), and again
    when the wake-up gate opens (`gate_until`). Woken by approvals (at most once
    per PAYMENTS_WAKE_SECONDS) and safe to run in several workers at once: each
    claims other intents (SKIP LOCKED)."""
    from vouchers.payment.services import payment_intents_run

    worker = f"{socket.gethostname()}:{os.getpid()}:{self.request.id or '-'}"
    return len(payment_intents_run(worker=worker, gate_until=gate_until))


@shared_task(name="payments.tasks.sweep_payment_intents")
def sweep_payment_intents() -> int:
    from vouchers.payment.services import payment_intents_sweep

    return len(payment_intents_sweep())


@shared_task(name="payments.tasks.render_result_pdf")
def render_result_pdf(voucher_id: int) -> str:
    from vouchers.payment.documents import result_document_render

    document = result_document_render(voucher_id=voucher_id)
    return document.sha256 if document else "skipped"


@shared_task(name="payments.tasks.sweep_documents")
def sweep_documents() -> int:
    """Queue the documents of paid vouchers and unit debits not rendered yet."""
    from payments.services.documents import debit_advices_missing
    from payments.tasks import enqueue, render_debit_advice
    from vouchers.payment.documents import results_missing

    vouchers, transfers = results_missing(), debit_advices_missing()
    for voucher_id in vouchers:
        enqueue(render_result_pdf, voucher_id)
    for transfer_id in transfers:
        enqueue(render_debit_advice, transfer_id)
    return len(vouchers) + len(transfers)
