"""Paying a voucher: the intent written in the approval's transaction, paid by a worker in batches.

This is the vouchers' side of the payment (issue 15's layers: vouchers sit above
payments): it claims the intents, posts the transfers through payments' set-based
writers (`payments.services.ledger`, `payments.services.budget`) and closes the
vouchers. The intent, the transfers and the bank files are payments' rows
(`PaymentIntent` keeps its foreign key to `vouchers.Voucher` as the string
reference "vouchers.Voucher").

Celery delivers a task at most once or at least once, never exactly once, so
the guarantee lives in the database (docs/ledger.md):

1. `payment_intent_create` writes the intent inside `voucher_approve`'s
   transaction (one per voucher: a OneToOne). The intent row is the outbox: on
   commit the batch task `pay_intents` is woken, at most once per
   PAYMENTS_WAKE_SECONDS across processes (no Celery publish per approval).
2. `payment_intents_settle` settles up to N due intents in ONE transaction, as
   autopay's run settles invoices: the vouchers and their intents claimed with
   `FOR UPDATE … SKIP LOCKED` (two settlers never take the same one), their
   lines and accounts read set-based, each voucher decided in Python, the
   money, the statuses, the events and the notifications written set-based.
   The transfers' unique keys `pay:<voucher>:…` are the backstop against
   paying twice. A worker killed anywhere inside it leaves nothing behind, not
   even its claim.
3. A refusal (insufficient balance, no payee bank, …) marks that voucher alone
   `payment_failed` with the reason; the treasury may retry it.
4. `payment_intent_process` (the old `pay_intent` task, the tests) is a batch of
   one; `payment_intents_sweep` (beat, every minute) settles whatever is left.
"""

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.selectors import user_has_treasury_role_over
from payments.models import (
    Account,
    AccountKind,
    BankRejection,
    BudgetMovement,
    BudgetMovementKind,
    PaymentIntent,
    PaymentIntentStatus,
    TransferKind,
)
from payments.services import budget, ledger
from payments.services.notifications import (
    balance_notification_rows,
    balance_recipients_by_unit,
    notifications_wake,
    notifications_write,
)
from treasury_portal.errors import ApplicationError, NotFound, ValidationFailed
from treasury_portal.wake import WakeGate, run_woken
from vouchers import services as voucher_services
from vouchers.models import TRANSITIONS, Voucher, VoucherEvent, VoucherLine, VoucherStatus
from vouchers.policy import FLOW

logger = logging.getLogger(__name__)

RETRY_ROLES = (Role.APPROVER, Role.ADMINISTRATOR)


def payment_intent_create(*, voucher: Voucher) -> None:
    """Called by vouchers.services.voucher_approve inside its transaction.

    One intent per voucher (a OneToOne), written with one `INSERT … ON CONFLICT
    (voucher_id) DO NOTHING`: a repeat leaves the existing row as it is (the
    caller holds the voucher's row lock, and approve leads from pending approval
    only, so there is none; the unique constraint is the backstop). The intent
    row is the outbox: once the approval commits the batch settler is woken (at
    most once per PAYMENTS_WAKE_SECONDS across processes), and the beat's sweep
    settles whatever is left."""
    PaymentIntent.objects.bulk_create([PaymentIntent(voucher=voucher)], ignore_conflicts=True)
    transaction.on_commit(lambda: _queue_payment())  # looked up when it runs (tests patch it)


_WAKE = WakeGate("payments:wake")


def _queue_payment() -> None:
    """Wake the batch settler (`payments.tasks.pay_intents`) at most once per
    PAYMENTS_WAKE_SECONDS across processes (treasury_portal.wake); with eager
    tasks (tests, the embedded default) at every commit. The task is told when
    the gate opens again (`gate_until`) and settles once more then
    (payment_intents_run): an approval committed while the gate was shut, after
    the woken run had claimed its last batch, is paid about a second later, not
    at the beat's next sweep."""
    from payments.tasks import enqueue
    from vouchers.tasks import pay_intents

    _WAKE.wake(pay_intents, settings.PAYMENTS_WAKE_SECONDS, enqueue)


def payment_intents_run(*, worker: str, gate_until: float | None = None) -> list[int]:
    """The woken task's body: settle every due intent, and once more when the
    wake-up gate opens again (`gate_until`, epoch seconds: at most
    PAYMENTS_WAKE_SECONDS later) for what committed while it was shut."""
    runs = run_woken(lambda: payment_intents_settle_all(limit=settings.PAYMENTS_BATCH_SIZE, worker=worker),
                     gate_until, settings.PAYMENTS_WAKE_SECONDS)
    return [intent for run in runs for intent in run]


# --- the lock order of a payment ------------------------------------------------


def lock_voucher_and_intent(*, related: tuple[str, ...] = (), **voucher_filter: object) -> tuple:
    """The one lock order of a voucher's payment: the voucher's row first (the
    parent, vouchers.policy.lock_voucher: its own row only, no join), then its
    payment intent; then whatever the caller posts (the unit's ledger accounts
    in id order, the budget lines in id order, last the treasury's accounts:
    the banks' clearing accounts, which every payment credits; payments.services.
    ledger and budget). The batch settler takes the same order
    (_lock_due_vouchers_and_intents: each voucher's row, then its intent's).
    (voucher, intent), either None when there is none. `voucher_filter` finds
    the voucher (pk=…, number=…); `related`: the parents the caller reads in
    any case, joined to the read (not locked: `OF self`) rather than read one
    query each."""
    vouchers = Voucher.objects.select_for_update(of=("self",))
    if related:  # select_related() without names would join every parent (and is deprecated)
        vouchers = vouchers.select_related(*related)
    voucher = vouchers.filter(**voucher_filter).first()
    if voucher is None:
        return None, None
    return voucher, PaymentIntent.objects.select_for_update(of=("self",)).filter(voucher=voucher).first()


def _due(now, prefix: str = "") -> Q:  # noqa: ANN001
    """The intents to settle: pending, or a processing claim older than
    PAYMENT_INTENT_STALE_SECONDS (a worker of before the batches that died)."""
    stale = now - timedelta(seconds=settings.PAYMENT_INTENT_STALE_SECONDS)
    return Q(**{f"{prefix}status": PaymentIntentStatus.PENDING}) | Q(
        **{f"{prefix}status": PaymentIntentStatus.PROCESSING, f"{prefix}claimed_at__lt": stale}
    )


def _lock_due_vouchers_and_intents(*, limit: int, intent_ids: list[int] | None, now) -> list[Voucher]:  # noqa: ANN001
    """The claim of a batch, in lock_voucher_and_intent's order (each voucher's
    row, then its intent's, in one statement: `FOR UPDATE OF` both) with SKIP
    LOCKED: rows another settler (or a transition of the voucher) holds are
    left to it, so two settlers never wait for each other nor take the same
    intent. Due: pending, or a processing claim older than
    PAYMENT_INTENT_STALE_SECONDS (a worker of before the batches that died).
    The vouchers with their intent (`payment_intent`), unit and payee bank."""
    vouchers = Voucher.objects.select_for_update(of=("self", "payment_intent"), skip_locked=True).select_related(
        "payment_intent", "payee_bank", "unit"
    ).filter(_due(now, "payment_intent__"))
    if intent_ids is not None:
        vouchers = vouchers.filter(payment_intent__pk__in=intent_ids)
    return list(vouchers.order_by("payment_intent__pk")[:limit])


# --- paying: one batch ------------------------------------------------------------------


DEFAULT_BATCH_SIZE = 100
# A batch whose conditional UPDATE did not move every row rolls back (then: one by one).
WRITE_REFUSED = "payment_write_refused"


@dataclass
class _Payment:
    """One claimed voucher: what it pays from and to, or why it is refused."""

    voucher: Voucher
    intent: PaymentIntent
    funding: list[tuple[Account, int, str]] = field(default_factory=list)  # (debit, amount, key tag)
    credit: Account | None = None
    bank: object = None  # the clearing bank, None when the payee's account is in this ledger
    error: ApplicationError | None = None
    transfers: list = field(default_factory=list)


def payment_intents_settle(
    *, limit: int = DEFAULT_BATCH_SIZE, worker: str = "", intent_ids: list[int] | None = None,
    refused: dict[int, ApplicationError] | None = None,
) -> list[PaymentIntent]:
    """Settle up to `limit` due intents in ONE transaction (the batch settler;
    payment_intent_process is a batch of one): claim them (SKIP LOCKED), read
    their lines, funding and payee accounts set-based, decide each voucher in
    Python — a refusal (no amount, a wrong deposit account or payee account, no
    payee bank, insufficient balance) makes that voucher alone `payment_failed`
    with its event and notification — then write set-based: the budget spend
    (reserved → spent, payments.services.budget), the ledger's debits, credits
    and transfers (unique keys `pay:<voucher>:…`, the backstop against paying
    twice; payments.services.ledger), the vouchers' status (one UPDATE) and
    events (one INSERT), the intents (one UPDATE), the notifications (one
    outbox write). Any write refused rolls the whole batch back (nothing
    claimed stays claimed: the intents are still pending). `refused`: intents
    to fail with that error whatever their decision (a write that refused them
    alone). Returns the intents settled, in claim order."""
    worker = (worker or f"local-{time.monotonic_ns()}")[:100]
    with transaction.atomic():
        now = timezone.now()
        vouchers = _lock_due_vouchers_and_intents(limit=limit, intent_ids=intent_ids, now=now)
        if not vouchers:
            return []
        payable = []
        for voucher in vouchers:
            intent = voucher.payment_intent
            intent.attempts += 1
            intent.claimed_at, intent.claimed_by, intent.updated_at = now, worker, now
            if voucher.status == VoucherStatus.PAID:
                # Paid by an earlier attempt whose bookkeeping of the intent was lost.
                intent.status = PaymentIntentStatus.SUCCEEDED
                intent.completed_at = intent.completed_at or now
            elif voucher.status not in TRANSITIONS["pay"][0] or voucher.status == VoucherStatus.PAYMENT_FAILED:
                intent.status = PaymentIntentStatus.FAILED
                intent.failure_code = "invalid_transition"
                intent.last_error = f"voucher is {voucher.status}"
            else:
                payable.append(_Payment(voucher, intent, error=(refused or {}).get(intent.pk)))
        _settle(payable, now)
        PaymentIntent.objects.bulk_update(
            [v.payment_intent for v in vouchers],
            ["status", "attempts", "claimed_at", "claimed_by", "failure_code", "last_error", "completed_at",
             "clearing_bank", "updated_at"],
        )
        _crash_test_pause()
    return [v.payment_intent for v in vouchers]


def _settle(payments: list[_Payment], now) -> None:  # noqa: ANN001
    """Read, decide and write the payable vouchers of a batch (their rows locked)."""
    if not payments:
        return
    lines = _lines(payments)
    accounts = _accounts(payments, lines)
    for p in payments:
        if p.error is None:
            try:
                _funding_and_payee(p, lines.get(p.voucher.pk, {}), accounts)
            except ApplicationError as exc:
                p.error = exc
    # The money: the unit accounts debited (and credited) locked in id order, then
    # (budget lines, by the conditional UPDATE) and last the treasury's accounts.
    unit_side = {a.pk for p in payments if p.error is None for a in [*(f[0] for f in p.funding), p.credit]
                 if a.unit_id is not None}
    locked = ledger.accounts_lock(unit_side) if unit_side else {}
    retried = [p.voucher.pk for p in payments if p.error is None and p.intent.attempts > 1]
    rounds = _rejection_rounds(retried)
    running = dict(locked)
    for p in payments:
        if p.error is None:
            p.error = _debit(p, running)
    paid = [p for p in payments if p.error is None]
    _write_money(paid, locked, rounds, now)
    _write_outcome(payments, now)


def _lines(payments: list[_Payment]) -> dict[int, dict[int, tuple[str, int]]]:
    """voucher id -> budget line id -> (budget level, amount): one query."""
    out: dict[int, dict[int, tuple[str, int]]] = defaultdict(dict)
    for voucher_id, line_id, level, amount in (
        VoucherLine.objects.filter(voucher_id__in=[p.voucher.pk for p in payments])
        .order_by()
        .values("voucher_id", "budget_line_id", "budget_line__budget_level")
        .annotate(total=Sum("amount"))
        .values_list("voucher_id", "budget_line_id", "budget_line__budget_level", "total")
    ):
        out[voucher_id][line_id] = (level, amount)
    return out


def _accounts(payments: list[_Payment], lines: dict) -> dict:
    """The accounts the batch may move, by pk and by number: the deposit
    accounts, the units' estimate accounts (their allocations posted first, the
    missing ones opened), the payees' accounts held in this ledger and the
    banks' clearing accounts (opened when missing). One query when all exist."""
    funded = [p.voucher for p in payments if not p.voucher.deposit_account_id]
    ledger.estimate_allocations_sync_many(v.unit_id for v in funded)
    estimates = {
        ledger.estimate_account_number(v.unit, level): (v.unit, level)
        for v in funded for level, _amount in lines.get(v.pk, {}).values()
    }
    clearing = {f"3856.{v.payee_bank.code}": v.payee_bank for v in (p.voucher for p in payments) if v.payee_bank_id}
    payees = {p.voucher.payee_account for p in payments if p.voucher.payee_account}
    deposits = {p.voucher.deposit_account_id for p in payments if p.voucher.deposit_account_id}
    rows = list(Account.objects.filter(Q(pk__in=deposits) | Q(number__in={*estimates, *clearing, *payees})))
    by_number = {a.number: a for a in rows}
    for number, (unit, level) in estimates.items():
        if number not in by_number:
            by_number[number] = ledger.account_open(actor=None, unit=unit, kind=AccountKind.ESTIMATE, level=level)
    for number, bank in clearing.items():
        if number not in by_number:
            by_number[number] = ledger.bank_clearing_account(bank)
    return {"pk": {a.pk: a for a in [*rows, *by_number.values()]}, "number": by_number}


def _funding_and_payee(p: _Payment, lines: dict[int, tuple[str, int]], accounts: dict) -> None:
    """The accounts debited (with amounts and key tags) and credited, or the
    refusal (ApplicationError), as the one-by-one payment decided them."""
    voucher = p.voucher
    total = sum(amount for _level, amount in lines.values())
    if total <= 0:
        raise ApplicationError("invalid_amount", _("Chứng từ không có số tiền để thanh toán."))
    if voucher.deposit_account_id:
        # C4-02a/KB: the unit's deposit account pays, never below zero.
        account = accounts["pk"].get(voucher.deposit_account_id)
        if account is None or account.kind != AccountKind.DEPOSIT or account.unit_id != voucher.unit_id:
            raise ApplicationError("invalid_account", _("Tài khoản tiền gửi của chứng từ không thuộc đơn vị."))
        p.funding = [(account, total, "deposit")]
    else:
        by_level: dict[str, int] = defaultdict(int)
        for level, amount in lines.values():
            by_level[level] += amount
        p.funding = [
            (accounts["number"][ledger.estimate_account_number(voucher.unit, level)], amount, f"est{level}")
            for level, amount in sorted(by_level.items())
        ]
    debit_ids = {a.pk for a, _amount, _tag in p.funding}
    internal = accounts["number"].get(voucher.payee_account) if voucher.payee_account else None
    if internal is not None:
        if internal.kind == AccountKind.ESTIMATE or internal.pk in debit_ids:
            raise ApplicationError(
                "invalid_payee_account",
                _("Tài khoản nhận %(number)s không nhận được khoản thanh toán này.") % {"number": internal.number},
            )
        p.credit = internal
        return
    if voucher.payee_bank_id is None:
        raise ApplicationError(
            "payee_bank_missing",
            _("Chứng từ chưa ghi ngân hàng của đơn vị nhận tiền (tài khoản %(account)s), nên chưa chuyển tiền được.")
            % {"account": voucher.payee_account or "∅"},
        )
    p.credit, p.bank = accounts["number"][f"3856.{voucher.payee_bank.code}"], voucher.payee_bank


def _debit(p: _Payment, balances: dict[int, int]) -> ApplicationError | None:
    """Take the voucher's amounts from the running balances (locked), or the
    refusal of the first account that cannot pay (ledger.transfer_post's)."""
    for _account, amount, _tag in p.funding:
        if not isinstance(amount, int) or amount <= 0 or amount > ledger.MAX_AMOUNT:
            return ValidationFailed(_("Số tiền phải là số nguyên dương (đồng)."), fields={"amount": [str(amount)]})
    needed: dict[int, int] = defaultdict(int)
    for account, amount, _tag in p.funding:
        needed[account.pk] += amount
    for account, amount, _tag in p.funding:
        if not account.allow_negative and balances[account.pk] - needed[account.pk] < 0:
            return ledger.insufficient_balance_error(account, balances[account.pk], amount)
    for account, amount, _tag in p.funding:
        balances[account.pk] -= amount
    if p.credit.pk in balances:
        balances[p.credit.pk] += sum(amount for _a, amount, _t in p.funding)
    return None


def _rejection_rounds(voucher_ids: list[int]) -> dict[int, int]:
    """A payment the bank rejected was reversed (bank_status); paying again takes
    new keys, one round per reversal, so a retry still never pays twice. Only
    retried vouchers are asked (a first attempt was never paid, so never rejected)."""
    if not voucher_ids:
        return {}
    return dict(
        BankRejection.objects.filter(voucher_id__in=voucher_ids, reversed=True)
        .order_by()
        .values("voucher_id")
        .annotate(n=Count("id"))
        .values_list("voucher_id", "n")
    )


def _write_money(paid: list[_Payment], locked: dict[int, int], rounds: dict[int, int], now) -> None:  # noqa: ANN001
    """The budget (reserved → spent, with its movements), the debits, then the
    treasury's accounts locked and credited and the transfers inserted with the
    balances after (ids taken under that lock, as transfer_post and autopay do).
    `locked`: the unit accounts' balances before the batch."""
    if not paid:
        return
    reserved = _reservations([p.voucher for p in paid if not p.voucher.deposit_account_id and not p.voucher.settles_id])
    spend = []
    for p in paid:
        for line_id, (amount, again) in sorted(reserved.get(p.voucher.pk, {}).items()):
            if amount > 0:
                key = f"spend:{p.voucher.pk}:{line_id}" + (f":{again}" if again else "")
                spend.append((line_id, amount, key, p.voucher.number[:255], p.voucher.pk))
    budget.budget_spend_reserved_many(movements=spend, now=now, refused_code=WRITE_REFUSED)
    debits: dict[int, int] = defaultdict(int)
    credits: dict[int, int] = defaultdict(int)
    for p in paid:
        for account, amount, _tag in p.funding:
            debits[account.pk] -= amount
            credits[p.credit.pk] += amount
    ledger.balances_move_many(deltas=debits, refused_code=WRITE_REFUSED)
    running = dict(locked)
    running.update(ledger.accounts_lock(k for k in credits if k not in locked))
    for p in paid:
        suffix = f":r{rounds[p.voucher.pk]}" if rounds.get(p.voucher.pk) else ""
        for account, amount, tag in p.funding:
            running[account.pk] -= amount
            running[p.credit.pk] += amount
            p.transfers.append(SimpleNamespace(
                pk=None, key=f"pay:{p.voucher.pk}:{tag}{suffix}", debit_account_id=account.pk,
                credit_account_id=p.credit.pk, amount=amount, voucher_id=p.voucher.pk, voucher=p.voucher,
                description=(p.voucher.description or p.voucher.number)[:500],
                counterparty_name=p.voucher.payee_name[:255], counterparty_account=p.voucher.payee_account[:40],
                debit_balance_after=running[account.pk], credit_balance_after=running[p.credit.pk], created_at=now,
                debit_account=account, credit_account=p.credit,
            ))
    ledger.transfers_post_many(
        transfers=[t for p in paid for t in p.transfers], credits=credits, kind=TransferKind.PAYMENT,
        refused_code=WRITE_REFUSED,
    )


def _reservations(vouchers: list[Voucher]) -> dict[int, dict[int, tuple[int, int]]]:
    """What each voucher holds reserved per budget line (payments.services.
    budget.voucher_reservation, from its movements) and how many times a bank's
    rejection turned its spending back (the spend key's round): one query."""
    if not vouchers:
        return {}
    rows: dict[int, list[dict]] = defaultdict(list)
    for row in (
        BudgetMovement.objects.filter(voucher_id__in=[v.pk for v in vouchers])
        .exclude(kind=BudgetMovementKind.ALLOCATE)
        .order_by()
        .values("voucher_id", "budget_line_id", "kind")
        .annotate(total=Sum("amount"), n=Count("id"))
    ):
        rows[row["voucher_id"]].append(row)
    out: dict[int, dict[int, tuple[int, int]]] = {}
    for voucher_id, voucher_rows in rows.items():
        unspent = {r["budget_line_id"]: r["n"] for r in voucher_rows if r["kind"] == BudgetMovementKind.UNSPEND}
        out[voucher_id] = {
            line_id: (amount, unspent.get(line_id, 0))
            for line_id, amount in budget.voucher_reservation(None, voucher_rows).items()
        }
    return out


def _write_outcome(payments: list[_Payment], now) -> None:  # noqa: ANN001
    """The vouchers (paid, or payment_failed with the reason) in one UPDATE, their
    events in one INSERT, the intents' outcome (saved by the caller), the
    notifications in one outbox write."""
    events = []
    for p in payments:
        voucher, intent = p.voucher, p.intent
        from_status = voucher.status
        if p.error is None:
            action, note = "pay", ""
            data = {"transfers": [t.pk for t in p.transfers], "amount": sum(t.amount for t in p.transfers)}
            voucher.status, voucher.closed_at = VoucherStatus.PAID, now
            intent.status, intent.completed_at = PaymentIntentStatus.SUCCEEDED, now
            intent.failure_code, intent.last_error, intent.clearing_bank = "", "", p.bank
        else:
            action, note = "fail_payment", p.error.message
            data = {"error": p.error.message[:1000]}
            voucher.status = VoucherStatus.PAYMENT_FAILED
            intent.status = PaymentIntentStatus.FAILED
            intent.failure_code, intent.last_error = p.error.code[:40], p.error.message
            logger.info("payment of voucher %s failed: %s", voucher.number, p.error.code)
        voucher.updated_at = now
        events.append(VoucherEvent(
            voucher=voucher, action=action, from_status=from_status, to_status=voucher.status,
            note=note[: FLOW.note_max], data=data,
        ))
    Voucher.objects.bulk_update([p.voucher for p in payments], ["status", "closed_at", "updated_at"])
    VoucherEvent.objects.bulk_create(events)
    # The balance changes are told here; the status changes by the drain of the
    # events just inserted (their rows are the outbox: vouchers.notifications),
    # which the wake-up below starts once this transaction commits.
    notifications_write(_balance_notification_rows([p for p in payments if p.error is None]))
    notifications_wake()


def _balance_notification_rows(paid: list[_Payment]) -> list:
    """The unit's account holders and chief accountants told of each transfer
    that moved one of its accounts (notify_balance_change's rows)."""
    units = {a.unit_id for p in paid for t in p.transfers for a in (t.debit_account, t.credit_account) if a.unit_id}
    if not units:
        return []
    recipients = balance_recipients_by_unit(units)
    rows = []
    for p in paid:
        for t in p.transfers:
            debit, credit = t.debit_account, t.credit_account
            for account, other, signed in ((debit, credit, -t.amount), (credit, debit, t.amount)):
                if account.unit_id:
                    rows += balance_notification_rows(
                        t, account, other, signed, user_ids=recipients.get(account.unit_id, [])
                    )
    return rows


def _crash_test_pause() -> None:
    # Only the pay-once crash test sets this: the worker is killed while it waits.
    if settings.PAYMENTS_CRASH_TEST_DELAY > 0:
        time.sleep(settings.PAYMENTS_CRASH_TEST_DELAY)


def payment_intents_settle_all(*, limit: int = DEFAULT_BATCH_SIZE, worker: str = "", most: int = 10_000) -> list[int]:
    """Settle batches until no due intent is left (or `most` were taken): the
    batch task's and the sweep's body. A batch whose write failed is settled
    one by one (_settle_one), so one bad voucher never holds the others back.
    Safe to run twice and in several processes at once (SKIP LOCKED)."""
    done: list[int] = []
    while len(done) < most:
        try:
            batch = [i.pk for i in payment_intents_settle(limit=min(limit, most - len(done)), worker=worker)]
        except Exception:
            logger.exception("voucher payment batch failed; settling its intents one by one")
            batch = _settle_one_by_one(limit=min(limit, most - len(done)), worker=worker)
        done += batch
        if len(batch) < limit:
            break
    return done


def _due_ids(limit: int) -> list[int]:
    return list(
        PaymentIntent.objects.filter(_due(timezone.now()))
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )


def _settle_one_by_one(*, limit: int, worker: str) -> list[int]:
    done = []
    for intent_id in _due_ids(limit):
        try:
            if _settle_one(intent_id, worker) is not None:
                done.append(intent_id)
        except Exception:
            logger.exception("payment intent %s could not be settled", intent_id)
    return done


def _settle_one(intent_id: int, worker: str) -> PaymentIntent | None:
    """A batch of one; a write refused (ApplicationError: the budget's or the
    ledger's conditional UPDATE) fails this voucher alone with that reason, as
    the one-by-one payment did. Any other error goes up: nothing was written
    and the intent is still pending, for the sweep."""
    try:
        settled = payment_intents_settle(limit=1, worker=worker, intent_ids=[intent_id])
    except ApplicationError as exc:
        settled = payment_intents_settle(limit=1, worker=worker, intent_ids=[intent_id], refused={intent_id: exc})
    return settled[0] if settled else None


def payment_intent_process(*, intent_id: int, worker: str = "") -> PaymentIntent | None:
    """Settle one intent: the old pay task's body, the same code as the batch
    (a batch of one). Returns None when there was nothing to settle (paid
    already, or another settler holds it)."""
    return _settle_one(intent_id, worker)


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
        transaction.on_commit(lambda: _queue_payment())
    return intent


def payment_intents_sweep(*, limit: int = 1000) -> list[int]:
    """The beat's sweep (every minute): settle whatever is due — intents whose
    wake-up was gated or lost, the sweep's own, and claims of a dead worker of
    before the batches. Safe to run any time: the claim (SKIP LOCKED) decides.
    Returns the intents settled."""
    return payment_intents_settle_all(
        limit=settings.PAYMENTS_BATCH_SIZE, most=limit, worker=f"sweep-{time.monotonic_ns()}"
    )


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
