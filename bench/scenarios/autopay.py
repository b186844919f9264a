"""The autopay run: N pending utility invoices (100,000 in the full run) under
active authorizations of the seeded units are settled by the real Celery worker
(2 prefork processes) through the beat's own entry, payments.tasks.sweep_autopay,
which starts a run and fans its batches out to both processes. Invoices per
second = N / time until none is pending.

Seeded with COPY, like the rest of the benchmark: for each chosen unit one active
authorization per demo supplier (charging one of the unit's budget lines), two
customer codes each, one invoice per code for this month. A few invoices are
meant to fail, so the exception path is measured too: every 50th names a code
nobody authorized (no_authorization) and every 97th is above its cap
(over_cap). After the run the scenario checks the money: one autopay transfer
per paid invoice, no budget line overspent, every account's balance equal to
its transfers (bench.seed.reconcile), the run's counts adding up."""

from __future__ import annotations

import time
from typing import Any

from bench.scenarios import Context, Scenario

CODES_PER_AUTHORIZATION = 2
CAP_PER_INVOICE = 5_000_000
CAP_PER_MONTH = 20_000_000


def _amount(i: int) -> int:
    if i % 97 == 96:
        return CAP_PER_INVOICE + 1_000  # over the cap per invoice
    return 150_000 + (i * 7_919) % 1_850_000  # 150,000–2,000,000 đồng


def _seed(ctx: Context, count: int) -> dict[str, int]:
    from django.utils import timezone

    from autopay.models import AuthorizationCustomerCode, AutopayAuthorization, SupplierInvoice
    from bench.seed import copy_rows, next_id, reset_sequences

    now = timezone.now()
    local = timezone.localtime(now)
    period = f"{local.year:04d}-{local.month:02d}"
    conn = ctx.db()
    try:
        cur = conn.cursor()
        cur.execute(
            "SELECT o.id FROM accounts_organisation o "
            "JOIN payments_suppliercollectionaccount c ON c.supplier_id = o.id WHERE o.kind = 'supplier' ORDER BY o.id"
        )
        suppliers = [r[0] for r in cur.fetchall()]
        if not suppliers:
            raise RuntimeError("no supplier with a collection account (seed_demo makes them)")
        per_unit = len(suppliers) * CODES_PER_AUTHORIZATION
        units_needed = -(-count // per_unit)
        # Units with an estimate account and a budget line of this year with room
        # for a month of bills; the one with the most room is charged.
        cur.execute(
            """
            SELECT DISTINCT ON (b.unit_id) b.unit_id, b.id
            FROM payments_budgetline b
            JOIN payments_account a ON a.unit_id = b.unit_id AND a.kind = 'estimate' AND a.balance > %s
            WHERE b.fiscal_year = %s AND b.allocated - b.reserved - b.spent > %s
            ORDER BY b.unit_id, b.allocated - b.reserved - b.spent DESC
            """,
            [CAP_PER_MONTH * len(suppliers), local.year, CAP_PER_MONTH * len(suppliers)],
        )
        units = cur.fetchall()[:units_needed]
        cur.execute("SELECT id FROM accounts_user WHERE is_superuser OR is_active ORDER BY id LIMIT 1")
        (actor,) = cur.fetchone()
        first_auth = next_id(cur, AutopayAuthorization)
        auths = [(unit_id, line_id, supplier) for unit_id, line_id in units for supplier in suppliers]
        valid_from, valid_to = f"{local.year}-01-01", f"{local.year + 1}-12-31"
        copy_rows(
            cur, AutopayAuthorization,
            ["id", "unit_id", "supplier_id", "budget_line_id", "cap_per_invoice", "cap_per_month", "valid_from",
             "valid_to", "status", "content_hash", "created_by_id", "created_at", "updated_at", "submitted_by_id",
             "submitted_at", "confirmed_by_id", "confirmed_at"],
            (
                (first_auth + n, unit_id, supplier, line_id, CAP_PER_INVOICE, CAP_PER_MONTH, valid_from, valid_to,
                 "active", "0" * 64, actor, now, now, actor, now, actor, now)
                for n, (unit_id, line_id, supplier) in enumerate(auths)
            ),
            now,
        )
        codes = [
            (first_auth + n, supplier, f"B{first_auth}-{unit_id}-{k}")  # unique per seeding (--reuse)
            for n, (unit_id, _line, supplier) in enumerate(auths)
            for k in range(CODES_PER_AUTHORIZATION)
        ]
        copy_rows(
            cur, AuthorizationCustomerCode, ["authorization_id", "supplier_id", "customer_code", "active"],
            ((auth_id, supplier, code, True) for auth_id, supplier, code in codes), now,
        )
        invoices = []
        for i in range(count):
            _auth, supplier, code = codes[i % len(codes)]
            if i % 50 == 49:
                code = f"NOAUTH{first_auth}-{i}"  # nobody authorized it
            invoices.append((supplier, f"B{first_auth}-{period}-{i}", code, period, _amount(i), now, "pending", now))
        copy_rows(
            cur, SupplierInvoice,
            ["supplier_id", "invoice_number", "customer_code", "period", "amount", "issued_at", "status", "created_at"],
            invoices, now,
        )
        reset_sequences(cur, [AutopayAuthorization, AuthorizationCustomerCode, SupplierInvoice])
        cur.execute("SELECT MIN(id), MAX(id) FROM payments_supplierinvoice WHERE invoice_number LIKE %s",
                    [f"B{first_auth}-%"])
        first_invoice, last_invoice = cur.fetchone()
        cur.execute("ANALYZE payments_supplierinvoice")
        cur.execute("ANALYZE payments_authorizationcustomercode")
        cur.execute("ANALYZE payments_autopayauthorization")
        conn.commit()
    finally:
        conn.close()
    return {"units": len(units), "authorizations": len(auths), "customer_codes": len(codes), "invoices": count,
            "tag": f"B{first_auth}-%", "ids": (first_invoice, last_invoice)}


def _counts(cur: Any, tag: str) -> dict[str, int]:
    """This seeding's invoices by status (earlier --reuse runs left theirs)."""
    cur.execute("SELECT status, COUNT(*) FROM payments_supplierinvoice WHERE invoice_number LIKE %s GROUP BY status",
                [tag])
    return dict(cur.fetchall())


def _pending(cur: Any, ids: tuple[int, int]) -> int:
    """This seeding's invoices still pending, polled while the worker runs: the
    pending partial index only (a LIKE over every invoice, ten times a second,
    took 45 ms of the database's CPU each and slowed the run it measured)."""
    cur.execute("SELECT COUNT(*) FROM payments_supplierinvoice WHERE status = 'pending' AND id BETWEEN %s AND %s",
                list(ids))
    return cur.fetchone()[0]


def run(ctx: Context) -> dict[str, Any]:
    from bench.seed import reconcile
    from treasury_portal.celery import app

    seeded = _seed(ctx, ctx.scale.autopay_invoices)
    tag = seeded.pop("tag")
    ids = seeded.pop("ids")
    conn = ctx.db()
    conn.autocommit = True
    cur = conn.cursor()
    before = _counts(cur, tag)
    started = time.perf_counter()
    app.send_task("payments.tasks.sweep_autopay", queue="payments")
    while True:
        time.sleep(0.1)
        pending = _pending(cur, ids)
        elapsed = time.perf_counter() - started
        if pending == 0 or elapsed > ctx.scale.drain_timeout:
            break
    after = _counts(cur, tag)
    cur.execute(
        "SELECT COUNT(*) FROM payments_supplierinvoice i JOIN payments_transfer t ON t.id = i.transfer_id "
        "WHERE i.status = 'paid' AND t.kind = 'autopay' AND t.amount = i.amount AND i.invoice_number LIKE %s", [tag]
    )
    (paid_with_transfer,) = cur.fetchone()
    cur.execute("SELECT exception_code, COUNT(*) FROM payments_supplierinvoice WHERE status = 'exception' "
                "AND invoice_number LIKE %s GROUP BY exception_code ORDER BY exception_code", [tag])
    exceptions = dict(cur.fetchall())
    cur.execute(
        "SELECT COUNT(*), COALESCE(SUM(processed), 0), COALESCE(SUM(paid + excepted), 0) FROM payments_autopayrun"
    )
    runs, processed, paid_plus_excepted = cur.fetchone()
    checks = reconcile(cur)
    conn.close()
    settled = before.get("pending", 0) - after.get("pending", 0)
    return {
        **seeded,
        "pending_at_start": before.get("pending", 0),
        "settled": settled,
        "paid": after.get("paid", 0) - before.get("paid", 0),
        "excepted": after.get("exception", 0) - before.get("exception", 0),
        "exceptions_by_code": exceptions,
        "still_pending": after.get("pending", 0),
        "paid_with_one_transfer": paid_with_transfer,
        "runs": runs,
        "run_counts_add_up": processed == paid_plus_excepted,
        "reconciliation": checks,
        "seconds": round(elapsed, 2),
        "per_s": round(settled / elapsed, 1) if elapsed > 0 else 0.0,
    }


SCENARIOS = [
    Scenario(
        name="autopay", title="Autopay run: pending utility invoices settled by the worker (2 processes)",
        target="100,000 invoices in ≤ 100 s", run=run, kind="worker",
        code=("autopay.tasks:sweep_autopay", "autopay.models:SupplierInvoice"),
    ),
]
