"""A Hypothesis state machine over the money: allocate or deposit (fund), drain,
submit (budget-funded or from the deposit account), approve or refuse, pay, pay again
(a duplicate delivery), fail (a payment order whose account was drained) and
retry, all through the real services, against a small Python model.

After every step: the ledger reconciles (debits = credits, every balance =
the sum of its transfers, no account that may not go negative below zero,
budget counters = their movements = the vouchers behind them, each voucher paid
at most once) and the database agrees with the model.

Examples: PAYMENT_STATEFUL_EXAMPLES and _STEPS (500 of 12 steps under CI=true,
20 of 40 otherwise; each example is its own savepoint, rolled back at the end).
"""

import os
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from payments.models import Account, BudgetLine, PaymentIntent, Transfer, TransferKind
from payments.selectors.reconcile import reconcile
from payments.services import ledger
from payments.services.budget import budget_allocate
from payments.tests.kit import Kit, seed_money
from treasury_portal.errors import ApplicationError
from vouchers import services as voucher_services
from vouchers.models import OPEN_STATUSES, Voucher, VoucherStatus
from vouchers.payment.services import payment_intent_process, payment_retry

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

NDKT = "6605"  # a small line (18.000.000 đồng): it runs out within an example
MILLION = 1_000_000


@dataclass
class Model:
    allocated: int
    reserved: int
    spent: int
    deposit: int
    vouchers: dict[int, dict] = field(default_factory=dict)

    def ids(self, *statuses: str) -> list[int]:
        return sorted(pk for pk, v in self.vouchers.items() if v["status"] in statuses)

    def committed(self) -> int:
        return sum(v["amount"] for v in self.vouchers.values() if v["deposit"] and v["status"] in OPEN_STATUSES)


class MoneyMachine(RuleBasedStateMachine):
    kit: Kit  # set by the test, shared by every example

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.line = BudgetLine.objects.get(pk=self.kit.line(NDKT).pk)
        self.account = Account.objects.get(pk=self.kit.deposit.pk)
        self.model = Model(self.line.allocated, self.line.reserved, self.line.spent, self.account.balance)
        self.n = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _key(self, what: str) -> str:
        self.n += 1
        return f"hyp-{what}-{self.n}"

    @initialize(
        budget=st.lists(st.integers(1, 4), max_size=3), deposit=st.lists(st.integers(1, 30), max_size=3)
    )
    def some_approved(self, budget: list[int], deposit: list[int]) -> None:
        """Start with a few vouchers already approved, waiting for their payment."""
        for millions, from_deposit in [(m, False) for m in budget] + [(m, True) for m in deposit]:
            amount = millions * MILLION
            voucher = self.kit.pending(amount, ndkt=NDKT, from_deposit=from_deposit)
            self.kit.approve(voucher)
            self.model.vouchers[voucher.pk] = {"amount": amount, "deposit": from_deposit,
                                               "status": VoucherStatus.APPROVED}
            if not from_deposit:
                self.model.reserved += amount

    # --- money in and out of the unit ------------------------------------------

    @rule(to_budget=st.booleans(), amount=st.integers(1, 40).map(lambda m: m * MILLION))
    def fund(self, to_budget: bool, amount: int) -> None:
        """Allocate more of the budget line, or credit a deposit."""
        if to_budget:
            budget_allocate(actor=None, budget_line=self.line, amount=amount, key=self._key("alloc"))
            self.model.allocated += amount
        else:
            ledger.deposit_credit(actor=None, account=self.account, amount=amount, reference=self._key("dep"))
            self.model.deposit += amount

    @rule(share=st.sampled_from([0.5, 0.95, 1.0]))
    def drain(self, share: float) -> None:
        """Another debit of the deposit account (an automatic payment, say)."""
        amount = int(self.model.deposit * share)
        if amount <= 0:
            return
        clearing = ledger.bank_clearing_account(self.kit.deposit_bank)
        ledger.transfer_post(debit=self.account, credit=clearing, amount=amount, key=self._key("drain"),
                             kind=TransferKind.PAYMENT)
        self.model.deposit -= amount

    # --- the voucher's life ----------------------------------------------------

    @rule(amount=st.integers(1, 8).map(lambda m: m * MILLION), from_deposit=st.booleans())
    def submit(self, amount: int, from_deposit: bool) -> None:
        m = self.model
        if from_deposit:
            fits = m.deposit - m.committed() >= amount
        else:
            fits = m.allocated - m.reserved - m.spent >= amount
        try:
            voucher = self.kit.submitted(amount, ndkt=NDKT, from_deposit=from_deposit)
        except ApplicationError as exc:
            assert not fits, f"refused although it fits: {exc.code} {exc.message}"
            assert exc.code == ("insufficient_balance" if from_deposit else "insufficient_budget")
            event(f"submit refused: {exc.code}")
            return
        assert fits, "accepted although it does not fit"
        m.vouchers[voucher.pk] = {"amount": amount, "deposit": from_deposit, "status": VoucherStatus.SUBMITTED}
        if not from_deposit:
            m.reserved += amount

    @precondition(lambda self: self.model.ids(VoucherStatus.SUBMITTED))
    @rule(data=st.data(), approve=st.sampled_from([True, True, True, False]))
    def decide(self, data: st.DataObject, approve: bool) -> None:
        """The treasury controls a submitted voucher, then approves or refuses it."""
        pk = data.draw(st.sampled_from(self.model.ids(VoucherStatus.SUBMITTED)))
        officer = self.kit.user("officer")
        v = self.model.vouchers[pk]
        voucher = voucher_services.voucher_claim(actor=officer, voucher=pk)
        if approve:
            voucher = voucher_services.voucher_pass(actor=officer, voucher=voucher)
            self.kit.approve(voucher)
            v["status"] = VoucherStatus.APPROVED
            return
        voucher_services.voucher_refuse(actor=officer, voucher=voucher, reasons=[{"code": "TC01", "note": "x"}])
        v["status"] = VoucherStatus.REFUSED
        if not v["deposit"]:
            self.model.reserved -= v["amount"]
        event("refused")

    @precondition(lambda self: self.model.ids(VoucherStatus.APPROVED))
    @rule(data=st.data())
    def pay(self, data: st.DataObject) -> None:
        pk = data.draw(st.sampled_from(self.model.ids(VoucherStatus.APPROVED)))
        v = self.model.vouchers[pk]
        payment_intent_process(intent_id=PaymentIntent.objects.get(voucher_id=pk).pk, worker=self._key("w"))
        if v["deposit"] and self.model.deposit < v["amount"]:
            v["status"] = VoucherStatus.PAYMENT_FAILED
            event("payment failed")
            return
        event("paid from the deposit account" if v["deposit"] else "paid from the estimate")
        v["status"] = VoucherStatus.PAID
        if v["deposit"]:
            self.model.deposit -= v["amount"]
        else:
            self.model.reserved -= v["amount"]
            self.model.spent += v["amount"]

    @precondition(lambda self: self.model.ids(VoucherStatus.PAID, VoucherStatus.PAYMENT_FAILED))
    @rule(data=st.data())
    def deliver_again(self, data: st.DataObject) -> None:
        """A duplicate delivery of the pay task: nothing to claim, nothing moves."""
        pk = data.draw(st.sampled_from(self.model.ids(VoucherStatus.PAID, VoucherStatus.PAYMENT_FAILED)))
        assert payment_intent_process(intent_id=PaymentIntent.objects.get(voucher_id=pk).pk, worker="dup") is None

    @precondition(lambda self: self.model.ids(VoucherStatus.PAYMENT_FAILED))
    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        pk = data.draw(st.sampled_from(self.model.ids(VoucherStatus.PAYMENT_FAILED)))
        payment_retry(actor=self.kit.user("approver"), voucher_id=pk)
        self.model.vouchers[pk]["status"] = VoucherStatus.APPROVED
        event("retried")

    # --- after every step --------------------------------------------------------

    @invariant()
    def ledger_reconciles(self) -> None:
        report = reconcile()
        assert report.ok, report.problems

    @invariant()
    def database_agrees_with_the_model(self) -> None:
        line = BudgetLine.objects.get(pk=self.line.pk)
        assert (line.allocated, line.reserved, line.spent) == (
            self.model.allocated, self.model.reserved, self.model.spent
        )
        assert Account.objects.get(pk=self.account.pk).balance == self.model.deposit
        statuses = dict(Voucher.objects.filter(pk__in=self.model.vouchers).values_list("pk", "status"))
        assert statuses == {pk: v["status"] for pk, v in self.model.vouchers.items()}
        for pk, v in self.model.vouchers.items():
            paid = Transfer.objects.filter(voucher_id=pk, kind=TransferKind.PAYMENT).count()
            assert paid == (1 if v["status"] == VoucherStatus.PAID else 0)


def _profile() -> tuple[int, int]:
    """(examples, steps): 500 short examples in CI (reliability.md: ≥ 500; 12
    steps keep each one cheap, ~0.5 s here), 20 of 40 steps on a developer's
    machine; PAYMENT_STATEFUL_EXAMPLES / _STEPS override both."""
    ci = os.environ.get("CI") == "true"
    return (
        int(os.environ.get("PAYMENT_STATEFUL_EXAMPLES", "500" if ci else "20")),
        int(os.environ.get("PAYMENT_STATEFUL_STEPS", "12" if ci else "40")),
    )


@pytest.mark.slow
def test_money_state_machine(world):
    seed_money(world)
    kit = Kit(world, "a")
    kit.deposit_bank = Voucher._meta.get_field("payee_bank").related_model.objects.get(code="VCB")
    MoneyMachine.kit = kit
    run_state_machine_as_test(
        MoneyMachine,
        settings=settings(
            max_examples=_profile()[0],
            stateful_step_count=_profile()[1],
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            database=None,
        ),
    )
