"""The voucher payment batches (vouchers.payment.services.payment_intents_settle):
many intents settled in one transaction, a refusal failing its voucher alone,
two settlers never taking the same intent, and the approval waking the batch
task at most once per PAYMENTS_WAKE_SECONDS instead of publishing one task each."""

import threading
import time
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connections
from django.test import override_settings

from payments.models import (
    Notification,
    NotificationKind,
    PaymentIntent,
    PaymentIntentStatus,
    Transfer,
    TransferKind,
)
from payments.selectors.reconcile import reconcile
from payments.services import ledger
from payments.tests.kit import Kit, seed_money
from tests.postgres import needs_postgres
from vouchers.models import VoucherEvent, VoucherStatus
from vouchers.payment import services as payment_services
from vouchers.payment.services import payment_intents_settle, payment_intents_settle_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def kits(world):  # noqa: ANN001, ANN201
    seed_money(world)
    return Kit(world, "a"), Kit(world, "b")


def _drain(kit: Kit, voucher, keep: int) -> None:  # noqa: ANN001
    deposit = kit.deposit
    ledger.transfer_post(
        debit=deposit, credit=ledger.bank_clearing_account(voucher.payee_bank), amount=deposit.balance - keep,
        key=f"drain:{kit.prefix}", kind=TransferKind.PAYMENT,
    )


def test_a_batch_pays_several_units_and_fails_the_short_voucher_alone(kits, drain_notifications):  # noqa: ANN001
    a, b = kits
    a1, a2 = a.approved(1_000_000), a.approved(2_000_000)  # the same estimate account, one after the other
    short, b2 = b.pending(6_000_000, from_deposit=True), b.pending(500, from_deposit=True)
    _drain(b, short, keep=1_000)  # meanwhile the deposit account is drained: `short` no longer fits, b2 does
    b.approve(short), b.approve(b2)
    estimate_before = a.estimate.balance
    vouchers = [a1, a2, short, b2]
    assert PaymentIntent.objects.filter(voucher__in=vouchers, status=PaymentIntentStatus.PENDING).count() == 4

    settled = payment_intents_settle(limit=10, worker="batch")

    assert [i.voucher_id for i in settled] == [v.pk for v in vouchers]  # claim order: the intents' order
    status = {v.pk: v.status for v in vouchers}
    for v in vouchers:
        v.refresh_from_db()
        status[v.pk] = v.status
    assert status == {a1.pk: "paid", a2.pk: "paid", short.pk: "payment_failed", b2.pk: "paid"}
    intents = {i.voucher_id: i for i in PaymentIntent.objects.filter(voucher__in=vouchers)}
    assert intents[short.pk].failure_code == "insufficient_balance"
    assert b.deposit.number in intents[short.pk].last_error
    assert {intents[v.pk].status for v in (a1, a2, b2)} == {PaymentIntentStatus.SUCCEEDED}
    assert {i.attempts for i in intents.values()} == {1}
    assert {i.claimed_by for i in intents.values()} == {"batch"}
    # One payment transfer per paid voucher, the balances after in the order they were paid.
    t1 = Transfer.objects.get(voucher=a1, kind=TransferKind.PAYMENT)
    t2 = Transfer.objects.get(voucher=a2, kind=TransferKind.PAYMENT)
    assert (t1.key, t2.key) == (f"pay:{a1.pk}:est2", f"pay:{a2.pk}:est2")
    assert t1.debit_balance_after == estimate_before - 1_000_000
    assert t2.debit_balance_after == estimate_before - 3_000_000 == a.estimate.balance
    assert t2.credit_balance_after == t1.credit_balance_after + 2_000_000
    assert Transfer.objects.get(voucher=b2, kind=TransferKind.PAYMENT).debit_balance_after == 500
    assert not Transfer.objects.filter(voucher=short).exists()
    # Each voucher's event, and its people told: the status (by the drain of the
    # events, vouchers.notifications), and the balance to the unit's holders.
    drain_notifications()
    for v in vouchers:
        (event,) = VoucherEvent.objects.filter(voucher=v, action__in=["pay", "fail_payment"])
        assert event.to_status == status[v.pk]
        told = Notification.objects.filter(voucher=v, kind=NotificationKind.VOUCHER_STATUS, data__status=status[v.pk])
        prefix = "a" if v in (a1, a2) else "b"
        assert {n.user.username for n in told} == {f"{prefix}_preparer", f"{prefix}_chief", f"{prefix}_holder"}
    assert VoucherEvent.objects.get(voucher=a2, action="pay").data == {"transfers": [t2.pk], "amount": 2_000_000}
    assert "không đủ" in VoucherEvent.objects.get(voucher=short, action="fail_payment").note
    balance = Notification.objects.filter(kind=NotificationKind.BALANCE_CHANGE, voucher=a2)
    assert {n.user.username for n in balance} == {"a_holder", "a_chief"}
    assert {n.data["balance"] for n in balance} == {t2.debit_balance_after}
    assert not Notification.objects.filter(kind=NotificationKind.BALANCE_CHANGE, voucher=short).exists()
    line = a.line()
    assert line.reserved == 0 and line.spent >= 3_000_000
    report = reconcile()
    assert report.ok, report.problems
    # Nothing left to settle: a second run takes nothing and pays nothing again.
    assert payment_intents_settle(limit=10, worker="again") == []
    assert Transfer.objects.filter(voucher__in=vouchers, kind=TransferKind.PAYMENT).count() == 3


def test_a_write_refused_fails_that_voucher_alone_the_rest_of_the_batch_is_paid(kits):  # noqa: ANN001
    a, _b = kits
    good, bad = a.approved(1_000_000), a.approved(2_000_000)
    # The budget counter and the voucher's reservation disagree (a bug elsewhere): the
    # batch's conditional UPDATE refuses, the batch rolls back and goes one by one.
    from payments.models import BudgetLine

    BudgetLine.objects.filter(pk=a.line().pk).update(reserved=1_500_000)
    assert len(payment_intents_settle_all(limit=10, worker="w")) == 2
    good.refresh_from_db(), bad.refresh_from_db()
    assert (good.status, bad.status) == ("paid", "payment_failed")
    intent = PaymentIntent.objects.get(voucher=bad)
    assert (intent.status, intent.failure_code) == (PaymentIntentStatus.FAILED, "payment_write_refused")
    assert not Transfer.objects.filter(voucher=bad).exists()


def test_the_old_task_name_still_pays_one_intent(kits):  # noqa: ANN001
    from vouchers.tasks import pay_intent, pay_intents

    a, _b = kits
    voucher = a.approved(1_000_000)
    intent = PaymentIntent.objects.get(voucher=voucher)
    assert pay_intent.apply(args=[intent.pk]).get() == PaymentIntentStatus.SUCCEEDED
    assert pay_intent.apply(args=[intent.pk]).get() == "skipped"
    assert pay_intents.name == "payments.tasks.pay_intents"
    a.approved(2_000_000)
    assert pay_intents.apply().result == 1


@pytest.fixture
def broker():  # noqa: ANN201
    """Tasks are published (not run eagerly); the publishes are recorded."""
    from vouchers.tasks import pay_intents

    conf = pay_intents.app.conf
    saved = conf.task_always_eager
    conf.task_always_eager = False
    cache.delete("payments:wake")
    payment_services._WAKE.last = 0.0
    with mock.patch("payments.tasks.enqueue") as enqueue:
        yield enqueue
    conf.task_always_eager = saved
    cache.delete("payments:wake")
    payment_services._WAKE.last = 0.0


def test_approvals_wake_the_batch_task_at_most_once_per_period(kits, broker, settings, django_capture_on_commit_callbacks):  # noqa: ANN001, E501
    from vouchers.tasks import pay_intents

    settings.PAYMENTS_WAKE_SECONDS = 30
    a, _b = kits
    first, second = a.pending(1_000_000), a.pending(2_000_000)
    with mock.patch("payments.services.notifications._wake_deliverer"):
        for voucher in (first, second):
            with django_capture_on_commit_callbacks(execute=True):
                a.approve(voucher)
    (call,) = broker.call_args_list  # one publish, no intent id: told when the gate opens again
    task, gate_until = call.args
    assert task is pay_intents and 0 < gate_until - time.time() <= 30
    # The intents are the outbox: both wait, pending, for the batch (or the beat's sweep).
    assert PaymentIntent.objects.filter(voucher__in=[first, second], status=PaymentIntentStatus.PENDING).count() == 2


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_settlers_take_different_intents_and_pay_each_voucher_once(world):  # noqa: ANN001
    seed_money(world)
    a, b = Kit(world, "a"), Kit(world, "b")
    with mock.patch("vouchers.payment.services._queue_payment"):  # the batches are run by hand below
        vouchers = [kit.approved(1_000_000 + i) for i in range(3) for kit in (a, b)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            barrier.wait()
            payment_intents_settle_all(limit=2, worker=name)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    # Each batch holds its rows a while before committing: the other settler skips them.
    with override_settings(PAYMENTS_CRASH_TEST_DELAY=0.3):
        threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors
    intents = PaymentIntent.objects.filter(voucher__in=vouchers)
    assert set(intents.values_list("status", flat=True)) == {PaymentIntentStatus.SUCCEEDED}
    assert set(intents.values_list("attempts", flat=True)) == {1}  # no intent was settled twice
    assert set(intents.values_list("claimed_by", flat=True)) == {"w0", "w1"}  # both took some
    for v in vouchers:
        assert Transfer.objects.filter(voucher=v, kind=TransferKind.PAYMENT).count() == 1
        assert VoucherEvent.objects.filter(voucher=v, action="pay").count() == 1
        v.refresh_from_db()
        assert v.status == VoucherStatus.PAID
    report = reconcile()
    assert report.ok, report.problems


def test_the_woken_run_settles_again_when_the_gate_opens(kits):  # noqa: ANN001
    """An approval committed while the gate was shut (here: during the run's
    wait) is paid by the same task about a second later, not at the beat's next
    sweep; a run not woken through the gate (the sweep, eager) does not wait."""
    from vouchers.tasks import pay_intents

    a, _b = kits
    first = a.approved(1_000_000)
    later = []

    def approved_meanwhile(seconds: float) -> None:
        assert 0 < seconds <= 1.5
        later.append(a.approved(2_000_000))

    with mock.patch("time.sleep", side_effect=approved_meanwhile) as sleep:
        assert pay_intents.apply(args=[time.time() + 0.5]).result == 2
    assert sleep.call_count == 1
    first.refresh_from_db()
    later[0].refresh_from_db()
    assert (first.status, later[0].status) == (VoucherStatus.PAID, VoucherStatus.PAID)
    a.approved(500_000)
    with mock.patch("time.sleep") as sleep:
        assert pay_intents.apply().result == 1
    assert sleep.call_count == 0
