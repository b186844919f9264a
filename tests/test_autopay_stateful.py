"""A Hypothesis state machine over autopay: suppliers send invoices (known and
unknown customer codes, repeated periods, amounts small to absurd), the budget
line is topped up, exceptions are retried, runs settle them in batches of any
size — all through the real services, against a small reference model of the
rules (docs/ledger.md).

After every step: each settled invoice has exactly the model's outcome (paid,
or the exception code); no (customer code, period) is paid twice; month caps
and the budget line hold; the ledger reconciles.

Examples: AUTOPAY_STATEFUL_EXAMPLES and _STEPS (500 of 12 steps under CI=true, 15
of 25 otherwise; each in a savepoint rolled back).
"""

import os
import statistics
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from autopay import services as autopay
from autopay.models import SupplierInvoice
from autopay.selectors import NOT_RETRYABLE
from autopay.tests.autopay_kit import AutopayKit, autopay_kit
from payments.models import BudgetLine, Transfer, TransferKind
from payments.selectors.reconcile import reconcile
from payments.services.budget import budget_allocate

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

CODES = ("S1", "S2", "S3")
CAP_INVOICE, CAP_MONTH = 6_000_000, 9_000_000


@dataclass
class Model:
    available: int
    pending: list[dict] = field(default_factory=list)
    outcome: dict[int, str] = field(default_factory=dict)  # invoice id → "paid" | exception code
    invoices: dict[int, dict] = field(default_factory=dict)  # invoice id → what was received
    paid: dict[tuple[str, str], int] = field(default_factory=dict)  # (code, period) → amount
    month: dict[str, int] = field(default_factory=dict)
    confirmed: set[int] = field(default_factory=set)  # invoices whose unusual amount the account holder confirmed

    def history(self, code: str) -> list[int]:
        periods = sorted((p for c, p in self.paid if c == code), reverse=True)[: autopay.ANOMALY_HISTORY]
        return [self.paid[(code, p)] for p in periods]

    def settle(self, batch_size: int) -> None:
        while self.pending:
            batch, self.pending = self.pending[:batch_size], self.pending[batch_size:]
            history = {code: self.history(code) for code in CODES}  # read once per batch
            for inv in batch:
                self.outcome[inv["id"]] = self.decide(inv, history)

    def decide(self, inv: dict, history: dict) -> str:
        code, period, amount = inv["code"], inv["period"], inv["amount"]
        if code not in CODES:
            return "no_authorization"
        if (code, period) in self.paid:
            return "duplicate_period"
        if amount > CAP_INVOICE or self.month.get(period, 0) + amount > CAP_MONTH:
            return "over_cap"
        past = history[code]
        if (
            inv["id"] not in self.confirmed
            and len(past) >= autopay.ANOMALY_MIN_HISTORY
            and amount > autopay.ANOMALY_FACTOR * statistics.median(past)
        ):
            return "amount_anomaly"
        if self.available < amount:
            return "insufficient_budget"
        self.available -= amount
        self.paid[(code, period)] = amount
        self.month[period] = self.month.get(period, 0) + amount
        return "paid"


class AutopayMachine(RuleBasedStateMachine):
    kit: AutopayKit

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        line = BudgetLine.objects.get(pk=self.kit.line("6605").pk)
        self.line = line
        self.model = Model(available=line.allocated - line.reserved - line.spent)
        self.n = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    @rule(
        code=st.sampled_from([*CODES, "UNKNOWN"]),
        period=st.sampled_from(["01", "02", "03", "04"]),
        amount=st.sampled_from([300_000, 1_000_000, 2_500_000, 4_000_000, 7_000_000]),
    )
    def receive(self, code: str, period: str, amount: int) -> None:
        self.n += 1
        invoice = self.kit.invoice(code, amount, period=f"{self.kit.fiscal_year}-{period}",
                                   number=f"SM-{id(self)}-{self.n}")
        received = {"id": invoice.pk, "code": code, "period": invoice.period, "amount": amount}
        self.model.pending.append(received)
        self.model.invoices[invoice.pk] = received

    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        """The unit retries an exception it may retry: pending again, decided by
        the next run under the rules of that moment (runs claim oldest first)."""
        retryable = sorted(
            pk for pk, outcome in self.model.outcome.items()
            if outcome != "paid" and outcome not in NOT_RETRYABLE and self.model.invoices[pk]["code"] in CODES
        )
        if not retryable:
            return
        pk = data.draw(st.sampled_from(retryable))
        autopay.autopay_invoice_retry(actor=self.kit.user("a_chief"), invoice=pk)
        del self.model.outcome[pk]
        self.model.pending = sorted([*self.model.pending, self.model.invoices[pk]], key=lambda i: i["id"])

    @rule(data=st.data())
    def confirm(self, data: st.DataObject) -> None:
        """The account holder confirms an unusual amount: the next run pays it
        unless another rule (caps, budget) holds it."""
        held = sorted(pk for pk, outcome in self.model.outcome.items() if outcome == "amount_anomaly")
        if not held:
            return
        pk = data.draw(st.sampled_from(held))
        autopay.autopay_invoice_confirm_amount(actor=self.kit.user("a_holder"), invoice=pk)
        del self.model.outcome[pk]
        self.model.confirmed.add(pk)
        self.model.pending = sorted([*self.model.pending, self.model.invoices[pk]], key=lambda i: i["id"])

    @rule(amount=st.sampled_from([1_000_000, 5_000_000]))
    def top_up(self, amount: int) -> None:
        self.n += 1
        budget_allocate(actor=None, budget_line=self.line, amount=amount, key=f"sm-{id(self)}-{self.n}")
        self.model.available += amount

    @rule(batch_size=st.sampled_from([1, 2, 3, 500]))
    def run(self, batch_size: int) -> None:
        autopay.autopay_run(batch_size=batch_size)
        self.model.settle(batch_size)

    @invariant()
    def the_database_agrees_with_the_model(self) -> None:
        rows = dict(
            (pk, status if status != "exception" else code)
            for pk, status, code in SupplierInvoice.objects.filter(pk__in=self.model.outcome).values_list(
                "pk", "status", "exception_code"
            )
        )
        assert rows == self.model.outcome
        paid = SupplierInvoice.objects.filter(status="paid").values_list("customer_code", "period")
        assert len(list(paid)) == len(set(paid)), "a period paid twice"
        assert Transfer.objects.filter(kind=TransferKind.AUTOPAY).count() == len(self.model.paid)
        line = BudgetLine.objects.get(pk=self.line.pk)
        assert line.allocated - line.reserved - line.spent == self.model.available
        report = reconcile()
        assert report.ok, report.problems


def _profile() -> tuple[int, int]:
    """(examples, steps): 500 short examples in CI (reliability.md: ≥ 500; 12
    steps keep each one cheap), 15 of 25 steps on a developer's machine;
    AUTOPAY_STATEFUL_EXAMPLES / _STEPS override both."""
    ci = os.environ.get("CI") == "true"
    return (
        int(os.environ.get("AUTOPAY_STATEFUL_EXAMPLES", "500" if ci else "15")),
        int(os.environ.get("AUTOPAY_STATEFUL_STEPS", "12" if ci else "25")),
    )


@pytest.mark.slow
def test_autopay_state_machine(world):
    kit = autopay_kit(world)
    kit.active_authorization(codes=CODES, ndkt="6605", cap_per_invoice=CAP_INVOICE, cap_per_month=CAP_MONTH)
    AutopayMachine.kit = kit
    run_state_machine_as_test(
        AutopayMachine,
        settings=settings(
            max_examples=_profile()[0],
            stateful_step_count=_profile()[1],
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            database=None,
        ),
    )
