"""Demo data of the payments app (seed_demo runs it after vouchers.demo).
Idempotent: accounts are opened once, transfers have fixed keys.

- the treasury's accounts: cash at the State Bank, the estimate authority of
  each budget level, a clearing and a settlement account per bank;
- for each demo unit: its estimate account per budget level of its budget lines
  (with the allocations posted), and a deposit account `3741.L.UNIT.00000`
  with an opening deposit.
"""

from django.db import transaction

from payments.models import AccountKind, Bank, BudgetLevel, BudgetLine
from payments.services import ledger

OPENING_DEPOSIT = 500_000_000
@transaction.atomic
def seed(world) -> None:  # noqa: ANN001 - accounts.demo.DemoWorld
    ledger.treasury_cash_account()
    for level in BudgetLevel.values:
        ledger.estimate_source_account(level)
    for bank in Bank.objects.all():
        ledger.bank_clearing_account(bank)
        ledger.bank_settlement_account(bank)
    for unit in world.units.values():
        levels = sorted(set(BudgetLine.objects.filter(unit=unit).values_list("budget_level", flat=True))) or ["2"]
        for level in levels:
            ledger.account_open(actor=None, unit=unit, kind=AccountKind.ESTIMATE, level=level)
        ledger.estimate_allocations_sync(unit=unit)
        deposit = ledger.account_open(actor=None, unit=unit, kind=AccountKind.DEPOSIT, level=levels[0])
        ledger.deposit_credit(
            actor=None, account=deposit, amount=OPENING_DEPOSIT, reference=f"demo-opening:{unit.code}",
            depositor="Kho bạc Nhà nước (demo)",
        )
