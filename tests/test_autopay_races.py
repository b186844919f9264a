"""Autopay under concurrency on PostgreSQL with real threads: two runs (or two
workers of one run) at once pay each invoice at most once; a run racing with
voucher payments of the same unit never deadlocks or overspends; the query
count of a batch does not grow with its size."""

import threading
from collections.abc import Callable
from unittest import mock

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from autopay import services as autopay
from autopay.models import InvoiceStatus, SupplierInvoice
from autopay.tests.autopay_kit import autopay_kit
from payments.models import Transfer, TransferKind
from payments.selectors.reconcile import reconcile
from tests.postgres import needs_postgres

pytestmark = [
    pytest.mark.django_db(transaction=True),
    needs_postgres,
]


def run_at_once(calls: list[Callable[[], object]]) -> list[object]:
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def worker(i: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    return results


@pytest.fixture
def kit(world):  # noqa: ANN001, ANN201
    return autopay_kit(world)


def test_two_runs_at_once_pay_each_invoice_at_most_once(kit):
    kit.active_authorization(codes=tuple(f"R{i:02d}" for i in range(30)), cap_per_month=10**10)
    invoices = [kit.invoice(f"R{i % 30:02d}", 100_000 + i, period=f"{kit.fiscal_year}-{i // 30 + 1:02d}")
                for i in range(90)]
    # Plus a duplicate of each of the first ten periods: exactly one of each pair may be paid.
    invoices += [kit.invoice(f"R{i:02d}", 100_000, period=f"{kit.fiscal_year}-01") for i in range(10)]
    results = run_at_once([lambda: autopay.autopay_run(batch_size=7) for _ in range(4)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.processed for r in results) == len(invoices)
    ids = [i.pk for i in invoices]
    assert SupplierInvoice.objects.filter(pk__in=ids, status=InvoiceStatus.PENDING).count() == 0
    assert SupplierInvoice.objects.filter(pk__in=ids, status=InvoiceStatus.PAID).count() == 90
    assert SupplierInvoice.objects.filter(pk__in=ids, exception_code="duplicate_period").count() == 10
    assert Transfer.objects.filter(kind=TransferKind.AUTOPAY).count() == 90
    report = reconcile()
    assert report.ok, report.problems


def test_workers_of_one_run_share_it(kit):
    kit.active_authorization(codes=tuple(f"W{i}" for i in range(20)), cap_per_month=10**10)
    for i in range(60):
        kit.invoice(f"W{i % 20}", 50_000, period=f"{kit.fiscal_year}-{i // 20 + 1:02d}")
    run = autopay.autopay_run_start(trigger="test")
    results = run_at_once([lambda: autopay.autopay_run_batches(run_id=run.pk, batch_size=5) for _ in range(3)])
    assert sum(results) == 60, results
    run.refresh_from_db()
    assert (run.processed, run.paid, run.excepted) == (60, 60, 0) and run.finished_at
    assert reconcile().ok


def test_a_run_racing_voucher_payments_of_the_same_unit(kit):
    from payments.models import PaymentIntent
    from vouchers.payment.services import payment_intent_process

    kit.active_authorization(codes=tuple(f"V{i}" for i in range(20)), ndkt="7000", cap_per_month=10**10)
    for i in range(40):
        kit.invoice(f"V{i % 20}", 1_000_000, period=f"{kit.fiscal_year}-{i // 20 + 1:02d}")
    vouchers = [kit.approved(2_000_000) for _ in range(4)]
    intents = [PaymentIntent.objects.get(voucher=v).pk for v in vouchers]
    calls = [lambda: autopay.autopay_run(batch_size=5)] + [
        (lambda pk=pk: payment_intent_process(intent_id=pk, worker=f"race-{pk}")) for pk in intents
    ]
    results = run_at_once(calls)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert results[0].paid == 40
    line = kit.line("7000")
    assert line.reserved + line.spent <= line.allocated
    report = reconcile()
    assert report.ok, report.problems


def _hold_then_release(lock: Callable[[], object], held: threading.Event, release: threading.Event) -> None:
    """In its own connection: lock rows, say so, keep them until told."""
    from django.db import transaction

    try:
        with transaction.atomic():
            lock()
            held.set()
            release.wait(timeout=60)
    finally:
        connections.close_all()


@pytest.mark.parametrize("what", ["budget_line", "authorization", "estimate_account"])
def test_a_batch_leaves_pending_what_another_transaction_holds_and_settles_the_rest(world, what):
    """Two batches side by side never queue behind each other: the invoices whose
    authorization, budget line or account another transaction holds stay pending
    for a later batch, the rest of the batch is settled at once."""
    from autopay.models import AutopayAuthorization
    from autopay.tests.autopay_kit import AutopayKit
    from payments.models import Account, AccountKind, BudgetLine

    kit_a = autopay_kit(world, "a")
    kit_b = AutopayKit(world, "b")
    auth_a = kit_a.active_authorization(codes=("HA1", "HA2"), ndkt="6501")
    kit_b.active_authorization(codes=("HB1",), ndkt="6501")
    held_invoices = [kit_a.invoice(c, 200_000, period=f"{kit_a.fiscal_year}-03") for c in ("HA1", "HA2")]
    free = kit_b.invoice("HB1", 300_000, period=f"{kit_b.fiscal_year}-03")
    locks = {
        "budget_line": lambda: list(BudgetLine.objects.select_for_update().filter(pk=auth_a.budget_line_id)),
        "authorization": lambda: list(AutopayAuthorization.objects.select_for_update().filter(pk=auth_a.pk)),
        "estimate_account": lambda: list(
            Account.objects.select_for_update().filter(unit=kit_a.unit, kind=AccountKind.ESTIMATE)
        ),
    }
    held, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_then_release, args=(locks[what], held, release))
    holder.start()
    try:
        assert held.wait(timeout=30)
        run = autopay.autopay_run_start(trigger="test")
        assert autopay.autopay_settle_batch(run=run, batch_size=10) == 1  # not blocked: it returns
        assert SupplierInvoice.objects.get(pk=free.pk).status == InvoiceStatus.PAID
        assert set(SupplierInvoice.objects.filter(pk__in=[i.pk for i in held_invoices])
                   .values_list("status", flat=True)) == {InvoiceStatus.PENDING}
    finally:
        release.set()
        holder.join(timeout=30)
    # Released: the next batch takes them (the run's loop does this at once).
    assert autopay.autopay_settle_batch(run=run, batch_size=10) == 2
    assert set(SupplierInvoice.objects.filter(pk__in=[i.pk for i in held_invoices])
               .values_list("status", flat=True)) == {InvoiceStatus.PAID}
    run.refresh_from_db()
    assert (run.processed, run.paid) == (3, 3)
    assert reconcile().ok, reconcile().problems


def test_a_batch_whose_every_invoice_is_held_waits_for_the_holder(kit):
    """Nothing else to do: the batch waits for the rows, as one batch alone did,
    and settles them when the holder commits (never an empty spin)."""
    from payments.models import BudgetLine

    auth = kit.active_authorization(codes=("WAIT1",), ndkt="6501")
    invoice = kit.invoice("WAIT1", 200_000, period=f"{kit.fiscal_year}-04")
    held, release = threading.Event(), threading.Event()
    holder = threading.Thread(
        target=_hold_then_release,
        args=(lambda: list(BudgetLine.objects.select_for_update().filter(pk=auth.budget_line_id)), held, release),
    )
    holder.start()
    assert held.wait(timeout=30)
    threading.Timer(0.5, release.set).start()
    run = autopay.autopay_run_start(trigger="test")
    assert autopay.autopay_settle_batch(run=run, batch_size=10) == 1
    holder.join(timeout=30)
    assert SupplierInvoice.objects.get(pk=invoice.pk).status == InvoiceStatus.PAID
    assert reconcile().ok, reconcile().problems


@pytest.mark.parametrize("size", [5, 40])
def test_a_batch_costs_the_same_queries_whatever_its_size(kit, size):
    """Pinned: one batch of paid and excepted invoices (claim, reads, locks,
    set-based writes, outbox) runs a fixed number of queries."""
    kit.active_authorization(codes=tuple(f"B{i}" for i in range(size)), cap_per_invoice=5_000_000,
                             cap_per_month=10**10)
    for i in range(size):
        kit.invoice(f"B{i}", 10_000_000 if i % 5 == 0 else 100_000, period=f"{kit.fiscal_year}-08")
    run = autopay.autopay_run_start(trigger="test")
    # The outbox's delivery task (run eagerly at commit in tests) is not the batch's work.
    with mock.patch("payments.services.notifications.notifications_wake"), CaptureQueriesContext(connection) as ctx:
        assert autopay.autopay_settle_batch(run=run, batch_size=size) == size
    assert SupplierInvoice.objects.filter(status=InvoiceStatus.PAID).count() == size - size // 5
    assert len(ctx.captured_queries) == QUERIES_PER_BATCH, "\n".join(q["sql"][:150] for q in ctx.captured_queries)


# BEGIN, claim, codes, authorizations (locked), paid periods, month totals, history,
# the units' lines, unposted allocations, collection accounts, banks, clearing account, estimate
# accounts, unit accounts (locked), budget lines (locked), 2 conditional UPDATEs,
# transfer ids, movements, invoices, events, recipients, notification ids,
# preferences and e-mails (one query), notifications, deliveries, clearing lock,
# its UPDATE, transfers, run counters, COMMIT.
QUERIES_PER_BATCH = 31


def test_on_the_clearing_account_the_newest_transfer_carries_its_balance(world):
    """A batch takes its transfers' ids under the lock of the clearing account it
    credits: a batch that writes meanwhile waits, so the ids follow the order the
    credits were applied in and the newest transfer carries the balance (with the
    ids taken first, the slower batch's lower ids came last)."""
    import time

    from autopay.tests.autopay_kit import AutopayKit
    from payments.models import Account
    from payments.services import ledger  # autopay takes the transfers' ids through ledger.transfer_ids_reserve

    kit_a = autopay_kit(world, "a")
    kit_b = AutopayKit(world, "b")
    kit_a.active_authorization(codes=("CLA",))
    kit_b.active_authorization(codes=("CLB",))
    kit_a.invoice("CLA", 100_000, period=f"{kit_a.fiscal_year}-05")
    kit_b.invoice("CLB", 200_000, period=f"{kit_b.fiscal_year}-05")
    run = autopay.autopay_run_start(trigger="test")
    real_reserve = ledger.reserve_ids
    reserved = threading.Event()

    def reserve_slowly(model, n):  # noqa: ANN001, ANN202
        ids = real_reserve(model, n)
        if model is Transfer and threading.current_thread().name == "slow":
            reserved.set()
            time.sleep(1.5)
        return ids

    def settle() -> None:
        try:
            autopay.autopay_settle_batch(run=run, batch_size=1)
        finally:
            connections.close_all()

    with mock.patch.object(ledger, "reserve_ids", reserve_slowly):
        slow = threading.Thread(target=settle, name="slow")
        slow.start()
        assert reserved.wait(timeout=30)
        fast = threading.Thread(target=settle, name="fast")
        fast.start()
        slow.join(timeout=60)
        fast.join(timeout=60)
    assert SupplierInvoice.objects.filter(status=InvoiceStatus.PAID).count() == 2
    newest = Transfer.objects.filter(kind=TransferKind.AUTOPAY).order_by("-id").first()
    clearing = Account.objects.get(pk=newest.credit_account_id)
    assert newest.credit_balance_after == clearing.balance
    report = reconcile()
    assert report.ok, report.problems


def test_a_worker_that_finds_only_held_invoices_does_not_finish_the_run(kit, monkeypatch):
    """The run is finished only when nothing is pending: a worker whose claim finds
    every pending invoice held by another worker of the run (SKIP LOCKED) waits
    for them, and stops without finishing the run if they stay held; the holder's
    worker settles them and finishes it. (A benchmark run once ended `finished`
    with one invoice still pending.)"""
    kit.active_authorization(codes=("HOLD1",), ndkt="6501")
    invoice = kit.invoice("HOLD1", 150_000, period=f"{kit.fiscal_year}-05")
    run = autopay.autopay_run_start(trigger="test")
    monkeypatch.setattr(autopay, "HELD_WAIT_SECONDS", 0.3)
    held, release = threading.Event(), threading.Event()
    holder = threading.Thread(
        target=_hold_then_release,
        args=(lambda: list(SupplierInvoice.objects.select_for_update().filter(pk=invoice.pk)), held, release),
    )
    holder.start()
    try:
        assert held.wait(timeout=30)
        assert autopay.autopay_run_batches(run_id=run.pk, batch_size=10) == 0
        run.refresh_from_db()
        assert run.status == "running" and run.finished_at is None
        assert SupplierInvoice.objects.get(pk=invoice.pk).status == InvoiceStatus.PENDING
    finally:
        release.set()
        holder.join(timeout=30)
    # Held only briefly: the worker waits for it, settles it and finishes the run.
    monkeypatch.setattr(autopay, "HELD_WAIT_SECONDS", 30)
    held, release = threading.Event(), threading.Event()
    holder = threading.Thread(
        target=_hold_then_release,
        args=(lambda: list(SupplierInvoice.objects.select_for_update().filter(pk=invoice.pk)), held, release),
    )
    holder.start()
    assert held.wait(timeout=30)
    threading.Timer(0.5, release.set).start()
    assert autopay.autopay_run_batches(run_id=run.pk, batch_size=10) == 1
    holder.join(timeout=30)
    run.refresh_from_db()
    assert run.status == "finished" and run.finished_at
    assert SupplierInvoice.objects.get(pk=invoice.pk).status == InvoiceStatus.PAID
