"""The voucher's notifications: its event row is the outbox (issue 15).

A transition writes its `VoucherEvent` and nothing else for the people it
concerns: no recipient is read and no notification written on the request path
(`services._notify` only asks, without SQL, for the deliverer to be woken when
the transaction commits). An event is pending while `NOTIFY_PENDING` holds (a
change of status, or a year-end carry, with `notified_at` NULL), however it
was inserted (the services, `bulk_create`, raw SQL).

`voucher_events_drain` (registered with payments' `notification_source_register`
in `VouchersConfig.ready`, run by `payments.tasks.deliver_notifications` and the
beat's `sweep_notifications` before they deliver) turns them into the same
notifications the transition used to write — the voucher's preparer and the
signers who had signed by then, in the portal's language, with the users'
channel preferences — a batch at a time in one transaction: the pending events
claimed oldest first with `FOR UPDATE SKIP LOCKED` (the partial index
`voucherevent_notify_pending`), their signers read in one query, every
notification and delivery written by payments' one-statement writer, the
events marked `notified_at`. Two drainers never take the same event, a task
delivered twice finds nothing left, and a rollback leaves the events pending:
each change is told exactly once.
"""

from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from payments.services.notifications import notifications_write, voucher_status_notifications
from vouchers.models import NOTIFY_PENDING, Signature, VoucherEvent

BATCH_SIZE = 500
MAX_BATCHES = 50


def _claim(batch_size: int) -> list[VoucherEvent]:
    """The oldest pending events, locked (SKIP LOCKED: another drainer's are
    passed over), with the few voucher columns the texts need (one query, the
    voucher joined, not locked)."""
    return list(
        VoucherEvent.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(NOTIFY_PENDING)
        .select_related("voucher")
        .only(
            "voucher_id", "action", "from_status", "to_status", "note", "created_at",
            "voucher__number", "voucher__fiscal_year", "voucher__unit_id", "voucher__created_by_id",
        )
        .order_by("id")[:batch_size]
    )


def voucher_events_drain(*, batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES) -> int:
    """Write the notifications of the pending voucher events, a batch per
    transaction, until none is left (or `max_batches`). Returns how many events
    were drained. Safe to run twice or in two processes at once."""
    drained = 0
    for _batch in range(max_batches):
        with transaction.atomic():
            events = _claim(batch_size)
            if not events:
                break
            # Who had signed each voucher when its event happened (a signature is
            # never deleted; one signed since the event is not the event's).
            signed: dict[int, list[tuple[int, object]]] = defaultdict(list)
            for voucher_id, signer_id, signed_at in Signature.objects.filter(
                voucher_id__in={e.voucher_id for e in events}
            ).order_by().values_list("voucher_id", "signer_id", "signed_at"):
                signed[voucher_id].append((signer_id, signed_at))
            rows = []
            for event in events:
                voucher = event.voucher
                user_ids = {voucher.created_by_id} | {
                    signer for signer, at in signed[voucher.pk] if at <= event.created_at
                }
                rows += voucher_status_notifications(voucher=voucher, event=event, user_ids=user_ids)
            notifications_write(rows, wake=False)  # the caller delivers next
            VoucherEvent.objects.filter(pk__in=[e.pk for e in events]).update(notified_at=timezone.now())
        drained += len(events)
        if len(events) < batch_size:
            break
    return drained
