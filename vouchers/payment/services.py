"""Paying a voucher: the intent written in the approval's transaction, paid by a worker.

This is the vouchers' side of the payment (issue 15's layers: vouchers sit above
payments): it claims the intent, posts the transfers through `payments.services.ledger`
and closes the voucher through its transitions (`vouchers.services`). The intent,
the transfers and the bank files are payments' rows (`PaymentIntent` keeps its
foreign key to `vouchers.Voucher` as the string reference "vouchers.Voucher").

Celery delivers a task at most once or at least once, never exactly once, so
the guarantee lives in the database (docs/ledger.md):

1. `payment_intent_create` writes the intent inside `voucher_approve`'s
   transaction (one per voucher: a OneToOne) and queues `pay_intent` on commit.
2. `payment_intent_process` claims it with a conditional UPDATE (pending →
   processing, or a processing claim older than PAYMENT_INTENT_STALE_SECONDS
   whose worker died) and checks the row count: a duplicate delivery finds
   nothing to claim.
3. Then ONE transaction locks the voucher and the intent, posts the transfers
   (unique keys `pay:<voucher>:…`), turns the reservation into spending, marks
   the voucher paid (event row, notifications) and the intent succeeded. A
   worker killed anywhere inside it leaves nothing behind; a worker that comes
   second finds the voucher paid and changes nothing.
4. A refusal (insufficient deposit balance, no payee bank, …) marks the voucher
   `payment_failed` with the reason instead; the treasury may retry it.
5. `payment_intents_sweep` (beat, every minute) re-queues pending intents and
   stale claims, so a lost task or a dead worker only delays the payment.
"""

import logging
import time
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.selectors import user_has_treasury_role_over
from payments.models import (
    Account,
    AccountKind,
    BankRejection,
    PaymentIntent,
    PaymentIntentStatus,
    Transfer,
    TransferKind,
)
from payments.services import ledger
from treasury_portal.errors import ApplicationError, NotFound
from vouchers import services as voucher_services
from vouchers.models import TRANSITIONS, Voucher, VoucherStatus

logger = logging.getLogger(__name__)

RETRY_ROLES = (Role.APPROVER, Role.ADMINISTRATOR)


def payment_intent_create(*, voucher: Voucher) -> PaymentIntent:
    """Called by vouchers.services.voucher_approve inside its transaction.

    One intent per voucher (a OneToOne): a repeat returns the existing row. The
    pay task is queued only once the approval commits; the sweeper re-queues
    intents that no worker finished. The caller holds the voucher's row lock, so
    nobody creates it meanwhile: a plain insert (get_or_create's savepoint, two
    more queries, guards against a race that cannot happen here).
    """
    intent = PaymentIntent.objects.filter(voucher=voucher).first()
    if intent is None:
        intent = PaymentIntent.objects.create(voucher=voucher)
        transaction.on_commit(lambda: _queue_payment(intent.pk))
    return intent


def _queue_payment(intent_id: int) -> None:
    from payments.tasks import enqueue
    from vouchers.tasks import pay_intent

    enqueue(pay_intent, intent_id)


# --- the lock order of a payment ------------------------------------------------


def lock_voucher_and_intent(*, related: tuple[str, ...] = (), **voucher_filter: object) -> tuple:
    """The one lock order of a voucher's payment: the voucher's row first (the
    parent, vouchers.policy.lock_voucher: its own row only, no join), then its
    payment intent; then whatever the caller posts (ledger accounts in id order,
    payments.services.ledger; budget lines in id order, payments.services.budget).
    (voucher, intent), either None when there is none. `voucher_filter` finds
    the voucher (pk=…, number=…); `related`: the parents the caller reads in
    any case (the worker: the payee's bank and the unit), joined to the read
    (not locked: `OF self`) rather than read one query each."""
    vouchers = Voucher.objects.select_for_update(of=("self",))
    if related:  # select_related() without names would join every parent (and is deprecated)
        vouchers = vouchers.select_related(*related)
    voucher = vouchers.filter(**voucher_filter).first()
    if voucher is None:
        return None, None
    return voucher, PaymentIntent.objects.select_for_update(of=("self",)).filter(voucher=voucher).first()


# --- paying -----------------------------------------------------------------


def _payee_side(voucher, debit_ids: set[int]) -> tuple[Account, object]:  # noqa: ANN001
    """The account credited by the payment, and the bank whose file carries it
    (None when the payee's account is held in this ledger)."""
    internal = Account.objects.filter(number=voucher.payee_account).first() if voucher.payee_account else None
    if internal is not None:
        if internal.kind == AccountKind.ESTIMATE or internal.pk in debit_ids:
            raise ApplicationError(
                "invalid_payee_account",
                _("Tài khoản nhận %(number)s không nhận được khoản thanh toán này.") % {"number": internal.number},
            )
        return internal, None
    if voucher.payee_bank_id is None:
        raise ApplicationError(
            "payee_bank_missing",
            _("Chứng từ chưa ghi ngân hàng của đơn vị nhận tiền (tài khoản %(account)s), nên chưa chuyển tiền được.")
            % {"account": voucher.payee_account or "∅"},
        )
    bank = voucher.payee_bank
    return ledger.bank_clearing_account(bank), bank


def _funding(voucher) -> list[tuple[Account, int, str]]:  # noqa: ANN001
    """(account to debit, amount, key tag) for the voucher."""
    lines = list(voucher.lines.select_related("budget_line").order_by())  # sums: no join for the ordering
    total = sum(line.amount for line in lines)
    if total <= 0:
        raise ApplicationError("invalid_amount", _("Chứng từ không có số tiền để thanh toán."))
    if voucher.deposit_account_id:
        # C4-02a/KB: the unit's deposit account pays, never below zero.
        account = Account.objects.filter(pk=voucher.deposit_account_id).first()
        if account is None or account.kind != AccountKind.DEPOSIT or account.unit_id != voucher.unit_id:
            raise ApplicationError("invalid_account", _("Tài khoản tiền gửi của chứng từ không thuộc đơn vị."))
        return [(account, total, "deposit")]
    by_level: dict[str, int] = defaultdict(int)
    for line in lines:
        by_level[line.budget_line.budget_level] += line.amount
    funding = []
    for level, amount in sorted(by_level.items()):
        ledger.estimate_allocations_sync(unit=voucher.unit, level=level)
        account = ledger.account_open(actor=None, unit=voucher.unit, kind=AccountKind.ESTIMATE, level=level)
        funding.append((account, amount, f"est{level}"))
    return funding


def _post_payment(voucher, *, first_attempt: bool = False) -> tuple[list[Transfer], object]:  # noqa: ANN001
    funding = _funding(voucher)
    credit, bank = _payee_side(voucher, {account.pk for account, _a, _t in funding})
    # A payment the bank rejected was reversed (bank_status); paying again takes new keys,
    # one round per reversal, so a retry still never pays twice. A first attempt has
    # never been paid, so never rejected.
    rounds = 0 if first_attempt else BankRejection.objects.filter(voucher=voucher, reversed=True).count()
    suffix = f":r{rounds}" if rounds else ""
    transfers = [
        ledger.transfer_post(
            debit=account, credit=credit, amount=amount, key=f"pay:{voucher.pk}:{tag}{suffix}",
            kind=TransferKind.PAYMENT,
            voucher=voucher, description=(voucher.description or voucher.number)[:500],
            counterparty_name=voucher.payee_name, counterparty_account=voucher.payee_account,
        )
        for account, amount, tag in funding
    ]
    return transfers, bank


def payment_intent_claim(*, intent_id: int, worker: str) -> bool:
    """pending → processing (or take over a stale claim), by row count."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.PAYMENT_INTENT_STALE_SECONDS)
    claimed = (
        PaymentIntent.objects.filter(pk=intent_id)
        .filter(Q(status=PaymentIntentStatus.PENDING) | Q(status=PaymentIntentStatus.PROCESSING, claimed_at__lt=stale))
        .update(
            status=PaymentIntentStatus.PROCESSING, claimed_at=now, claimed_by=worker[:100],
            attempts=F("attempts") + 1, updated_at=now,
        )
    )
    return claimed == 1


def _crash_test_pause() -> None:
    # Only the pay-once crash test sets this: the worker is killed while it waits.
    if settings.PAYMENTS_CRASH_TEST_DELAY > 0:
        time.sleep(settings.PAYMENTS_CRASH_TEST_DELAY)


def payment_intent_process(*, intent_id: int, worker: str = "") -> PaymentIntent | None:
    """The pay task's body: claim, then pay (or fail) in one transaction.
    Returns None when there was nothing to claim (a duplicate delivery)."""
    worker = worker or f"local-{time.monotonic_ns()}"
    if not payment_intent_claim(intent_id=intent_id, worker=worker):
        return None
    try:
        return _pay_claimed(intent_id, worker)
    except Exception:
        # Not a business refusal (a database error, a bug): give the claim back
        # so the sweeper retries; nothing of the payment was committed.
        PaymentIntent.objects.filter(
            pk=intent_id, status=PaymentIntentStatus.PROCESSING, claimed_by=worker[:100]
        ).update(status=PaymentIntentStatus.PENDING, updated_at=timezone.now())
        raise


def _pay_claimed(intent_id: int, worker: str) -> PaymentIntent:
    voucher_id = PaymentIntent.objects.values_list("voucher_id", flat=True).get(pk=intent_id)
    with transaction.atomic():
        voucher, intent = lock_voucher_and_intent(pk=voucher_id, related=("payee_bank", "unit"))
        if intent.status != PaymentIntentStatus.PROCESSING or intent.claimed_by != worker[:100]:
            return intent  # another worker took it over
        now = timezone.now()
        if voucher.status == VoucherStatus.PAID:
            # Paid by an earlier attempt whose bookkeeping of the intent was lost.
            intent.status = PaymentIntentStatus.SUCCEEDED
            intent.completed_at = intent.completed_at or now
            intent.save(update_fields=["status", "completed_at", "updated_at"])
            return intent
        if voucher.status not in TRANSITIONS["pay"][0] or voucher.status == VoucherStatus.PAYMENT_FAILED:
            intent.status = PaymentIntentStatus.FAILED
            intent.failure_code = "invalid_transition"
            intent.last_error = f"voucher is {voucher.status}"
            intent.save(update_fields=["status", "failure_code", "last_error", "updated_at"])
            return intent
        try:
            with transaction.atomic():
                transfers, bank = _post_payment(voucher, first_attempt=intent.attempts <= 1)
                # The vouchers side turns the reservation into spending
                # (budget_spend) and closes the voucher, in this transaction.
                voucher_services.voucher_mark_paid(
                    voucher=voucher, locked=True,  # locked above, in this transaction
                    data={"transfers": [t.pk for t in transfers], "amount": sum(t.amount for t in transfers)},
                )
        except ApplicationError as exc:
            voucher_services.voucher_mark_payment_failed(voucher=voucher, error=exc.message)
            intent.status = PaymentIntentStatus.FAILED
            intent.failure_code = exc.code[:40]
            intent.last_error = exc.message
            intent.save(update_fields=["status", "failure_code", "last_error", "updated_at"])
            logger.info("payment of voucher %s failed: %s", voucher.number, exc.code)
        else:
            intent.status = PaymentIntentStatus.SUCCEEDED
            intent.completed_at = now
            intent.failure_code = ""
            intent.last_error = ""
            intent.clearing_bank = bank
            intent.save(
                update_fields=["status", "completed_at", "failure_code", "last_error", "clearing_bank", "updated_at"]
            )
        _crash_test_pause()
    return intent


# --- the treasury's actions -------------------------------------------------------


def payment_retry(*, actor, voucher_id: int) -> PaymentIntent:  # noqa: ANN001
    """payment_failed → approved, and a new attempt of the same intent. The
    transfer keys are per voucher, so a retry can never pay a second time."""
    with transaction.atomic():
        voucher, intent = lock_voucher_and_intent(pk=voucher_id)  # parents before children
        if voucher is None or not (
            actor.is_superuser or user_has_treasury_role_over(actor, voucher.unit, *RETRY_ROLES)
        ):
            raise NotFound()
        if intent is None:
            raise ApplicationError("invalid_transition", _("Chứng từ này chưa có lệnh thanh toán."))
        if intent.status != PaymentIntentStatus.FAILED:
            raise ApplicationError(
                "invalid_transition", _("Chỉ thanh toán lại được khoản thanh toán đã bị lỗi.")
            )
        voucher_services.voucher_retry_payment(voucher=voucher, actor=actor, note=_("Kho bạc thanh toán lại."))
        intent.status = PaymentIntentStatus.PENDING
        intent.failure_code = ""
        intent.claimed_at = None
        intent.claimed_by = ""
        intent.save(update_fields=["status", "failure_code", "claimed_at", "claimed_by", "updated_at"])
        transaction.on_commit(lambda: _queue_payment(intent.pk))
    return intent


def payment_intents_sweep(*, limit: int = 1000) -> list[int]:
    """Re-queue pending intents that no task took within a short grace period,
    and claims whose worker died. Safe to run any time: the claim decides."""
    now = timezone.now()
    stale_seconds = settings.PAYMENT_INTENT_STALE_SECONDS
    grace = timedelta(seconds=min(30, stale_seconds))
    ids = list(
        PaymentIntent.objects.filter(
            Q(status=PaymentIntentStatus.PENDING, updated_at__lt=now - grace)
            | Q(status=PaymentIntentStatus.PROCESSING, claimed_at__lt=now - timedelta(seconds=stale_seconds))
        )
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
    for intent_id in ids:
        _queue_payment(intent_id)
    return ids


# --- the bank rejects a voucher's payment ------------------------------------------------


def voucher_payment_rejected(  # noqa: ANN201
    *, actor, bank_file, end_to_end_id: str, reason_code: str, note: str,  # noqa: ANN001
):
    """The bank status import's handler of a rejected transfer whose end-to-end id is
    a voucher number (payments.services.bank_status, registered in VouchersConfig.ready),
    in the import's transaction: the ledger reverses the payment (bank_payment_reverse),
    the voucher reopens as `payment_failed` (`bank_reject` transition) and its intent
    fails with `bank_rejected`, out of the file. Answers (outcome, voucher, amount)."""
    from payments.services.bank_status import bank_payment_reverse

    voucher, intent = lock_voucher_and_intent(number=end_to_end_id)  # parents before children
    if voucher is None:
        return "unknown_transaction", None, 0
    if voucher.status != VoucherStatus.PAID or intent is None or intent.bank_file_id != bank_file.pk:
        # Not (or no longer) a payment this file carries: reversed already, or never in it.
        return "not_in_file", voucher, 0
    amount = bank_payment_reverse(actor=actor, bank_file=bank_file, voucher=voucher, reason_code=reason_code)
    voucher_services.voucher_mark_payment_rejected(
        voucher=voucher, actor=actor, reason=note, locked=True,
        data={"bank_file": bank_file.message_id, "reason_code": reason_code, "amount": amount},
    )
    intent.status = PaymentIntentStatus.FAILED
    intent.failure_code = "bank_rejected"
    intent.last_error = note[:1000]
    intent.bank_file = None
    intent.clearing_bank = None
    intent.save(update_fields=["status", "failure_code", "last_error", "bank_file", "clearing_bank", "updated_at"])
    return "reversed", voucher, amount
