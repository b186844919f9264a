"""The vouchers' invariants of the money, run by payments' `reconcile` (manage.py
reconcile, the stateful and crash tests) after its own checks: registered in
VouchersConfig.ready (issue 15: payments never imports vouchers).

- the budget's vouchers: an open voucher holds exactly what its lines ask, a
  closed or draft one holds nothing; a paid budget-funded voucher spent exactly
  its lines, an unpaid one nothing;
- payments: each voucher paid at most once (its payment transfers less their
  reversals add up to its total when paid and to nothing otherwise; a succeeded
  intent means a paid voucher).
"""

from collections import defaultdict

from django.db.models import Count, Sum

from payments.models import (
    BudgetMovement,
    BudgetMovementKind,
    PaymentIntent,
    PaymentIntentStatus,
    Transfer,
    TransferKind,
)
from payments.selectors.reconcile import Report
from vouchers.models import OPEN_STATUSES, Voucher, VoucherLine, VoucherStatus


def _voucher_movements() -> dict[tuple[int, str], int]:
    return {
        (row["voucher_id"], row["kind"]): row["total"] or 0
        for row in BudgetMovement.objects.filter(voucher__isnull=False)
        .values("voucher_id", "kind")
        .annotate(total=Sum("amount"))
    }


def check_voucher_budget(report: Report) -> None:
    """The vouchers behind the budget lines' counters."""
    per_voucher = _voucher_movements()
    targets: dict[int, int] = defaultdict(int)
    budget_funded = VoucherLine.objects.filter(voucher__deposit_account__isnull=True, voucher__settles__isnull=True)
    for row in budget_funded.values("voucher_id").annotate(total=Sum("amount")):
        targets[row["voucher_id"]] = row["total"] or 0
    for voucher in Voucher.objects.only("id", "number", "status", "deposit_account_id", "settles_id"):
        held = (
            per_voucher.get((voucher.pk, BudgetMovementKind.RESERVE), 0)
            - per_voucher.get((voucher.pk, BudgetMovementKind.RELEASE), 0)
            - per_voucher.get((voucher.pk, BudgetMovementKind.SPEND), 0)
            + per_voucher.get((voucher.pk, BudgetMovementKind.UNSPEND), 0)
        )
        spent = per_voucher.get((voucher.pk, BudgetMovementKind.SPEND), 0) - per_voucher.get(
            (voucher.pk, BudgetMovementKind.UNSPEND), 0
        )
        target = targets.get(voucher.pk, 0)
        if voucher.status == VoucherStatus.RETURNED:
            pass  # holds what it asked when submitted; its lines may be changing
        elif voucher.status in OPEN_STATUSES:
            if held != target:
                report.add(
                    f"voucher {voucher.number} ({voucher.status}): holds {held} reserved, its lines ask {target}"
                )
        elif held != 0:
            report.add(f"voucher {voucher.number} ({voucher.status}): still holds {held} reserved")
        if voucher.status == VoucherStatus.PAID:
            if spent != target:
                report.add(f"voucher {voucher.number} (paid): spent {spent} ≠ its lines {target}")
        elif spent:
            report.add(f"voucher {voucher.number} ({voucher.status}): spent {spent} without being paid")


def check_voucher_payments(report: Report) -> None:
    """Each voucher paid at most once, and only a paid one."""
    paid_out = {
        row["voucher_id"]: (row["total"] or 0, row["n"])
        for row in Transfer.objects.filter(kind=TransferKind.PAYMENT)
        .values("voucher_id")
        .annotate(total=Sum("amount"), n=Count("id"))
    }
    # A payment the bank rejected came back (payments.services.bank_status).
    for row in (
        Transfer.objects.filter(kind=TransferKind.REVERSAL, voucher__isnull=False)
        .values("voucher_id")
        .annotate(total=Sum("amount"))
    ):
        total, count = paid_out.get(row["voucher_id"], (0, 0))
        paid_out[row["voucher_id"]] = (total - (row["total"] or 0), count)
    intents = dict(PaymentIntent.objects.values_list("voucher_id", "status"))
    paid = 0
    for voucher in Voucher.objects.only("id", "number", "status", "total_amount", "settles_id"):
        total, count = paid_out.get(voucher.pk, (0, 0))
        moves_money = voucher.settles_id is None
        if voucher.status == VoucherStatus.PAID and moves_money:
            paid += 1
            if total != voucher.total_amount:
                report.add(
                    f"voucher {voucher.number}: paid {total} in {count} transfer(s), "
                    f"its total is {voucher.total_amount}"
                )
        elif total:
            report.add(f"voucher {voucher.number} ({voucher.status}): {total} paid out but not marked paid")
        status = intents.get(voucher.pk)
        if status == PaymentIntentStatus.SUCCEEDED and voucher.status != VoucherStatus.PAID:
            report.add(f"voucher {voucher.number}: intent succeeded but voucher is {voucher.status}")
    report.facts["vouchers_paid"] = paid
