"""Autopay under concurrency on PostgreSQL with real threads: two runs (or two
workers of one run) at once pay each invoice at most once; a run racing with
voucher payments of the same unit never deadlocks or overspends; the query
count of a batch does not grow with its size."""

import threading
from collections.abc import Callable
from unittest import mock

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from payments.models import InvoiceStatus, SupplierInvoice, Transfer, TransferKind
from payments.selectors.reconcile import reconcile
from payments.services import autopay
from payments.tests.autopay_kit import autopay_kit

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), reason="races need PostgreSQL"
    ),
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
    from payments.services.payment import payment_intent_process

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
    with mock.patch("payments.services.notifications._queue_delivery"), CaptureQueriesContext(connection) as ctx:
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
