"""Payment intents: written in the approval's transaction, paid by a worker."""

from django.db import transaction

from payments.models import PaymentIntent


def payment_intent_create(*, voucher) -> PaymentIntent:  # noqa: ANN001 - vouchers.models.Voucher
    """Called by vouchers.services.voucher_approve inside its transaction.

    One intent per voucher (a OneToOne): a repeat returns the existing row. The
    pay task is queued only once the approval commits; the sweeper re-queues
    intents that no worker finished.
    """
    intent, created = PaymentIntent.objects.get_or_create(voucher=voucher)
    if created:
        transaction.on_commit(lambda: _queue_payment(intent.pk))
    return intent


def _queue_payment(intent_id: int) -> None:
    try:
        from payments.tasks import pay_intent
    except ImportError:  # the worker side arrives with the ledger
        return
    pay_intent.delay(intent_id)
