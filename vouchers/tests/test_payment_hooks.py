"""The hooks payments offers and VouchersConfig.ready fills (issue 15: payments
never imports vouchers): payments' reconcile runs the vouchers' checks."""

from payments.models import PaymentIntent
from payments.selectors.reconcile import reconcile
from vouchers.models import Voucher
from vouchers.payment.services import payment_intent_process


def test_reconcile_runs_the_voucher_payment_check(kit):
    voucher = kit.approved()
    payment_intent_process(intent_id=PaymentIntent.objects.get(voucher=voucher).pk, worker="t")
    assert Voucher.objects.get(pk=voucher.pk).status == "paid"
    assert reconcile().ok, reconcile().problems
    Voucher.objects.filter(pk=voucher.pk).update(status="approved")  # a payment the voucher does not show

    report = reconcile()
    assert any(f"voucher {voucher.number} (approved)" in p and "not marked paid" in p for p in report.problems)


def test_reconcile_runs_the_voucher_budget_check(kit):
    voucher = kit.submitted()
    assert reconcile().ok, reconcile().problems
    Voucher.objects.filter(pk=voucher.pk).update(status="draft")  # a draft still holding its reservation

    report = reconcile()
    assert any(f"voucher {voucher.number} (draft): still holds" in p for p in report.problems)
