"""Every invariant of the money, checked from the rows (manage.py reconcile,
and the stateful and crash tests after every step).

- the ledger: total debits = total credits and the balances sum to zero;
  every cached balance = credits − debits of its transfers; no account that
  may not go negative is below zero;
- the budget: each line's counters = the sums of its movements
  (allocated = Σ allocate, reserved = Σ reserve − Σ release − Σ spend + Σ unspend,
  spent = Σ spend − Σ unspend: a bank's rejection turns spending back into a
  reservation) and = the vouchers behind them (an open voucher holds
  exactly what its lines ask, a closed or draft one holds nothing; a paid
  budget-funded voucher spent exactly its lines, an unpaid one nothing);
- payments: each voucher paid at most once (its payment transfers less their
  reversals add up to its total when paid and to nothing otherwise; a succeeded intent means a
  paid voucher); each estimate account paid out exactly what its budget
  lines spent, and holds only allocations that exist;
- (the voucher checks, registered by vouchers: vouchers.payment.reconcile)
- autopay: each paid invoice paid exactly its amount by one transfer (and
  spent it once from its budget line), nothing moved for an unpaid one.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Max, Sum

from payments.models import (
    Account,
    AccountKind,
    BudgetLine,
    BudgetMovement,
    BudgetMovementKind,
    Transfer,
    TransferKind,
)


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    facts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, text: str) -> None:
        self.problems.append(text)


def _sums(qs, key: str) -> dict:  # noqa: ANN001
    return {row[key]: row["total"] or 0 for row in qs.values(key).annotate(total=Sum("amount"))}


def check_ledger(report: Report) -> None:
    debits = _sums(Transfer.objects.all(), "debit_account_id")
    credits = _sums(Transfer.objects.all(), "credit_account_id")
    total_debits, total_credits = sum(debits.values()), sum(credits.values())
    report.facts.update(
        transfers=Transfer.objects.count(), total_debits=total_debits, total_credits=total_credits,
        accounts=Account.objects.count(),
    )
    if total_debits != total_credits:
        report.add(f"ledger: total debits {total_debits} ≠ total credits {total_credits}")
    balance_sum = 0
    for account in Account.objects.all().only("id", "number", "balance", "allow_negative", "kind", "unit_id"):
        expected = credits.get(account.pk, 0) - debits.get(account.pk, 0)
        balance_sum += account.balance
        if account.balance != expected:
            report.add(
                f"account {account.number}: cached balance {account.balance} ≠ credits − debits {expected}"
            )
        if expected < 0 and (not account.allow_negative or account.unit_id):
            report.add(f"account {account.number}: below zero ({expected})")
    if balance_sum != 0:
        report.add(f"ledger: balances add up to {balance_sum}, not 0")
    check_balance_after(report)


def check_balance_after(report: Report) -> None:
    """On every account, the transfer with the highest id carries the account's
    balance after it (statements and balance notices read it instead of sums)."""
    newest: dict[int, tuple[int, str]] = {}  # account → (transfer id, side)
    for side in ("debit", "credit"):
        for account_id, transfer_id in (
            Transfer.objects.order_by().values(f"{side}_account_id").annotate(newest=Max("id"))
            .values_list(f"{side}_account_id", "newest")
        ):
            if account_id not in newest or newest[account_id][0] < transfer_id:
                newest[account_id] = (transfer_id, side)
    after = {
        pk: (debit_after, credit_after)
        for pk, debit_after, credit_after in Transfer.objects.filter(pk__in={t for t, _s in newest.values()})
        .values_list("pk", "debit_balance_after", "credit_balance_after")
    }
    for account in Account.objects.filter(pk__in=newest).only("id", "number", "balance"):
        transfer_id, side = newest[account.pk]
        value = after[transfer_id][0 if side == "debit" else 1]
        if value != account.balance:
            report.add(
                f"account {account.number}: balance {account.balance} ≠ {value} after its last transfer {transfer_id}"
            )


def _movement_sums() -> dict[tuple[int, str], int]:
    return {
        (row["budget_line_id"], row["kind"]): row["total"] or 0
        for row in BudgetMovement.objects.values("budget_line_id", "kind").annotate(total=Sum("amount"))
    }


def check_budget(report: Report) -> None:
    sums = _movement_sums()
    lines = list(BudgetLine.objects.select_related("unit"))
    report.facts["budget_lines"] = len(lines)
    for line in lines:
        allocated = sums.get((line.pk, BudgetMovementKind.ALLOCATE), 0)
        spent_by_vouchers = sums.get((line.pk, BudgetMovementKind.SPEND), 0) - sums.get(
            (line.pk, BudgetMovementKind.UNSPEND), 0
        )
        # Autopay spends straight from the line (no reservation before it).
        spent = spent_by_vouchers + sums.get((line.pk, BudgetMovementKind.AUTOPAY), 0)
        reserved = (
            sums.get((line.pk, BudgetMovementKind.RESERVE), 0)
            - sums.get((line.pk, BudgetMovementKind.RELEASE), 0)
            - spent_by_vouchers
        )
        counters = (
            ("allocated", line.allocated, allocated), ("reserved", line.reserved, reserved),
            ("spent", line.spent, spent),
        )
        for name, counter, expected in counters:
            if counter != expected:
                report.add(f"budget line {line.pk} ({line.unit.code} {line}): {name} {counter} ≠ movements {expected}")
        if line.reserved + line.spent > line.allocated:
            report.add(
                f"budget line {line.pk}: reserved + spent {line.reserved + line.spent} > allocated {line.allocated}"
            )


def check_payments(report: Report) -> None:
    # Estimate accounts: paid out = spent by their lines; allocations mirror movements.
    spent: dict[tuple[int, str], int] = defaultdict(int)
    for row in (
        BudgetMovement.objects.filter(
            kind__in=[BudgetMovementKind.SPEND, BudgetMovementKind.AUTOPAY, BudgetMovementKind.UNSPEND]
        )
        .values("budget_line__unit_id", "budget_line__budget_level", "kind")
        .annotate(total=Sum("amount"))
    ):
        sign = -1 if row["kind"] == BudgetMovementKind.UNSPEND else 1
        spent[(row["budget_line__unit_id"], row["budget_line__budget_level"])] += sign * (row["total"] or 0)
    estimate_paid: dict[tuple[int, str], int] = defaultdict(int)
    for row in (
        Transfer.objects.filter(
            kind__in=[TransferKind.PAYMENT, TransferKind.AUTOPAY], debit_account__kind=AccountKind.ESTIMATE
        )
        .values("debit_account__unit_id", "debit_account__budget_level")
        .annotate(total=Sum("amount"))
    ):
        estimate_paid[(row["debit_account__unit_id"], row["debit_account__budget_level"])] += row["total"] or 0
    for row in (
        Transfer.objects.filter(kind=TransferKind.REVERSAL, credit_account__kind=AccountKind.ESTIMATE)
        .values("credit_account__unit_id", "credit_account__budget_level")
        .annotate(total=Sum("amount"))
    ):
        estimate_paid[(row["credit_account__unit_id"], row["credit_account__budget_level"])] -= row["total"] or 0
    for key in sorted(set(spent) | set(estimate_paid)):
        if spent.get(key, 0) != estimate_paid.get(key, 0):
            report.add(
                f"estimate account of unit id {key[0]} level {key[1]}: paid out {estimate_paid.get(key, 0)}, "
                f"budget lines spent {spent.get(key, 0)}"
            )
    allocations = BudgetMovement.objects.filter(kind=BudgetMovementKind.ALLOCATE).select_related("budget_line")
    movements = {m.pk: m for m in allocations}
    for transfer in Transfer.objects.filter(kind=TransferKind.ALLOCATION).select_related("credit_account"):
        movement_id = transfer.key.removeprefix("allocate:")
        movement = movements.get(int(movement_id)) if movement_id.isdigit() else None
        account = transfer.credit_account
        if (
            movement is None
            or movement.amount != transfer.amount
            or account.unit_id != movement.budget_line.unit_id
            or account.budget_level != movement.budget_line.budget_level
        ):
            report.add(f"allocation transfer {transfer.key}: no matching budget allocation")


# The checks of the apps above payments (issue 15: payments never imports them):
# vouchers registers the vouchers behind the counters and each voucher paid at
# most once (vouchers.payment.reconcile, in VouchersConfig.ready); autopay its
# invoices' transfers (autopay.reconcile.check_autopay, in AutopayConfig.ready).
_registered_checks: list[Callable[[Report], None]] = []


def check_register(check: Callable[[Report], None]) -> None:
    """Add a check that `reconcile` runs after payments' own (once, whatever the repeats)."""
    if check not in _registered_checks:
        _registered_checks.append(check)


def reconcile() -> Report:
    report = Report()
    check_ledger(report)
    check_budget(report)
    check_payments(report)
    for check in _registered_checks:
        check(report)
    return report
